/**
 * An AbortController that exists only once someone asks for its signal. Every attempt can be
 * aborted (cancel, timeout, stop), but few handlers ever read ctx.signal, and `new AbortController`
 * was 4-15 % of a busy worker's main thread (issue 12): the runtime's own checks read `aborted`.
 */
export class OnDemandAbortController {
  private controller: AbortController | null = null;
  private abortedWith: { reason: unknown } | null = null;

  get aborted(): boolean {
    return this.abortedWith !== null;
  }

  /** The signal handed to the handler; aborted already if abort() came first, with the same reason. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  /** As AbortController.abort: the first reason stays. */
  abort(reason?: unknown): void {
    if (this.abortedWith) return;
    // AbortController's default reason is an AbortError DOMException; keep that for a bare abort().
    this.abortedWith = { reason: reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason };
    this.controller?.abort(this.abortedWith.reason);
  }
}

/** What stop grace and attempt timeouts need of either kind of controller. */
export type Abortable = Pick<AbortController, "abort">;
