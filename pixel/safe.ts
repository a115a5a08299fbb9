// The script's one rule, in one place: nothing it does may throw into the page.

/** Runs `task`; an exception (storage blocked, a sandboxed frame, a bad argument from the page)
 * becomes undefined instead of reaching the page. */
export const attempt = <T>(task: () => T): T | undefined => {
  try {
    return task();
  } catch (_) {}
};
