/**
 * How a process with orchestrators ends on SIGTERM or SIGINT. Each orchestrator stops gracefully.
 * A pool or timer the app left open would then keep the process alive for good (the quick start's
 * `sql` does), so a moment after the last one has stopped, if the process is still running and
 * nothing else listens for that signal, the signal is raised again with our listeners gone: the
 * process ends as Node ends it without handlers. The moment lets an app that ends its own pool
 * and exits on `orchestrator.stopped` do so first; an app with a listener of its own for the
 * signal decides itself when to exit.
 */

/** How long after the last orchestrator stopped the signal is raised again. */
export const SIGNAL_EXIT_DELAY_MS = 1_000;

const stopping = new Set<Promise<unknown>>();

/** Call from a signal listener (already removed, as `once` listeners are) with the stop it started. */
export function exitAfterStop(signal: NodeJS.Signals, stop: Promise<unknown>): void {
  const settled = stop.catch(() => {});
  stopping.add(settled);
  void settled.then(() => {
    stopping.delete(settled);
    if (stopping.size > 0) return;
    // unref: a process that has nothing left to do exits by itself before this fires.
    setTimeout(() => {
      if (stopping.size === 0 && process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    }, SIGNAL_EXIT_DELAY_MS).unref();
  });
}
