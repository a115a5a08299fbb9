// The one global, `ckm`: calls the page queued before the script loaded are replayed in order,
// then the queue stub is replaced by the real function.
import { convert } from './convert.js';
import { fill } from './forms.js';
import { post } from './post.js';
import { url } from './reqid.js';
import { attempt } from './safe.js';
import { keepReqid } from './storage.js';

export type Ckm = (command: string, a?: any, b?: any) => void;

const commands: Record<string, (a?: any, b?: any) => unknown> = {
  // The JS click pixel calls ckm('reqid', ckm_request_id) when it runs after this script; a
  // reqid in the landing URL outranks it.
  reqid: (value) => url || (keepReqid(value), fill()),
  post,
  convert,
};

/** An unknown command, or one that fails, is ignored: never an exception in the page. */
const ckm: Ckm = (command, a, b) => attempt(() => commands[command]!(a, b));

export const page = window as unknown as { ckm?: { q?: IArguments[] } | Ckm } & Record<string, unknown>;

/** Replays the stub's queue, then puts `ckm` in its place. (Nothing is queued during the replay:
 * no command calls back into the page before it returns.) */
export const install = () => (
  (((page.ckm || 0) as { q?: IArguments[] }).q || []).forEach((call) => ckm(...(call as unknown as [string]))),
  (page.ckm = ckm)
);
