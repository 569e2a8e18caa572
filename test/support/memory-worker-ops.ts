/**
 * An in-memory stand-in for WorkerOps: a list of executions with the statuses the real claim and
 * writes move them through, a record of every call, and (optionally) claims held open until a test
 * lets them answer, so a test can act while a claim is in flight.
 */
import type { ClaimedExecution } from "../../src/db/claim";
import type { TaskLimits } from "../../src/db/flow-control";
import type { Outcome } from "../../src/runtime/run-execution";
import type { WorkerOps } from "../../src/runtime/worker-ops";

export interface MemoryExecution {
  id: string;
  task_key: string;
  queue: string;
  status: "pending" | "running" | "completed" | "failed";
  priority: number;
}

export type OpCall =
  | { op: "claim"; taskKeys: string[]; limit: number; got: number }
  | { op: "claimLimited"; unlimited: string[]; limited: string[]; limit: number; got: number }
  | { op: "nextRunAt" }
  | { op: "writeOutcomes"; ids: string[] }
  | { op: "removeFinished"; completed: string[]; failed: string[] }
  | { op: "wakeQueue"; taskKeys: string[] };

export class MemoryWorkerOps implements WorkerOps {
  readonly executions: MemoryExecution[] = [];
  readonly calls: OpCall[] = [];
  /** When set, each claim waits for release() before it answers. */
  holdClaims = false;
  /** When set, each write waits for releaseWrite() before it answers. */
  holdWrites = false;
  private readonly heldClaims: (() => void)[] = [];
  private readonly heldWrites: (() => void)[] = [];
  private nextId = 1;

  add(taskKey: string, count = 1, options: { queue?: string; priority?: number } = {}): string[] {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = `e${this.nextId++}`;
      this.executions.push({ id, task_key: taskKey, queue: options.queue ?? "default", status: "pending", priority: options.priority ?? 0 });
      ids.push(id);
    }
    return ids;
  }

  count(status: MemoryExecution["status"]): number {
    return this.executions.filter((e) => e.status === status).length;
  }

  callsOf<K extends OpCall["op"]>(op: K): Extract<OpCall, { op: K }>[] {
    return this.calls.filter((c): c is Extract<OpCall, { op: K }> => c.op === op);
  }

  /** Lets the oldest held claim answer. */
  releaseClaim(): void {
    this.heldClaims.shift()?.();
  }

  get claimsHeld(): number {
    return this.heldClaims.length;
  }

  releaseWrite(): void {
    this.heldWrites.shift()?.();
  }

  get writesHeld(): number {
    return this.heldWrites.length;
  }

  async claim(queue: string, taskKeys: readonly string[], limit: number): Promise<ClaimedExecution[]> {
    await this.waitIfHeld(this.holdClaims, this.heldClaims);
    const rows = this.take(queue, taskKeys, limit);
    this.calls.push({ op: "claim", taskKeys: [...taskKeys], limit, got: rows.length });
    return rows;
  }

  async claimLimited(queue: string, unlimitedKeys: readonly string[], limited: readonly TaskLimits[], limit: number): Promise<ClaimedExecution[]> {
    await this.waitIfHeld(this.holdClaims, this.heldClaims);
    const rows: ClaimedExecution[] = [];
    for (const l of limited) {
      const running = this.executions.filter((e) => e.task_key === l.key && e.status === "running").length;
      const room = Math.min(limit - rows.length, l.concurrency === null ? Infinity : Math.max(0, l.concurrency - running));
      rows.push(...this.take(queue, [l.key], room));
    }
    rows.push(...this.take(queue, unlimitedKeys, limit - rows.length));
    this.calls.push({ op: "claimLimited", unlimited: [...unlimitedKeys], limited: limited.map((l) => l.key), limit, got: rows.length });
    return rows;
  }

  async nextRunAt(): Promise<Date | null> {
    this.calls.push({ op: "nextRunAt" });
    return null;
  }

  async writeOutcomes(outcomes: readonly Outcome[]): Promise<void> {
    await this.waitIfHeld(this.holdWrites, this.heldWrites);
    this.calls.push({ op: "writeOutcomes", ids: outcomes.map((o) => o.id) });
    for (const outcome of outcomes) {
      const row = this.executions.find((e) => e.id === outcome.id)!;
      if (outcome.kind === "complete") row.status = "completed";
      else if (outcome.kind === "fail") row.status = outcome.final ? "failed" : "pending";
      else row.status = outcome.kind === "release" ? "pending" : "failed";
    }
  }

  async removeFinished(completed: readonly string[], failed: readonly string[]): Promise<void> {
    this.calls.push({ op: "removeFinished", completed: [...completed], failed: [...failed] });
  }

  async wakeQueue(_queue: string, taskKeys: readonly string[]): Promise<void> {
    this.calls.push({ op: "wakeQueue", taskKeys: [...taskKeys] });
  }

  private take(queue: string, taskKeys: readonly string[], limit: number): ClaimedExecution[] {
    if (limit <= 0) return [];
    const rows = this.executions
      .filter((e) => e.status === "pending" && e.queue === queue && taskKeys.includes(e.task_key))
      .sort((a, b) => b.priority - a.priority)
      .slice(0, limit);
    return rows.map((row) => {
      row.status = "running";
      const now = new Date();
      return { id: row.id, task_key: row.task_key, queue: row.queue, event_name: "invoke", payload: null, attempts: 1, steps: null, cancel_requested: false, run_at: now, locked_at: now, trace_context: null };
    });
  }

  private waitIfHeld(hold: boolean, held: (() => void)[]): Promise<void> {
    return hold ? new Promise((resolve) => held.push(resolve)) : Promise.resolve();
  }
}
