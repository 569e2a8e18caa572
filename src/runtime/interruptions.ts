/**
 * Control flow thrown through a handler from ctx calls. They are not failures: the runner turns
 * each into its own outcome. A handler that catches everything should rethrow these.
 */
export class Interruption extends Error {
  constructor(readonly reason: "suspended" | "released" | "cancelled") {
    super(`pgconductor: execution ${reason}`);
    this.name = "Interruption";
  }
}

export const isInterruption = (error: unknown): error is Interruption => error instanceof Interruption;
