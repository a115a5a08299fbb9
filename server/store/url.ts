/** A database URL without its password, for messages and logs: a URL may carry one, and neither a
 * start banner nor an error may print it. */
export function redact(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}
