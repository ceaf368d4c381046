// One turn of the event loop. The CPU backend computes synchronously, so a loop that only
// awaits it runs on microtasks and never lets timers, I/O or signal handlers in; awaiting this
// between steps lets an abort (Ctrl-C, a closed HTTP connection) arrive and other work proceed.
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );
}
