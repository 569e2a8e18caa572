/**
 * What this process knows of paused queues and tasks: loaded from pgconductor.pauses at start and
 * after every (re)connect of the LISTEN connection, kept current by `pgconductor_pause`
 * notifications (`pause|queue|name`, `resume|task|name`). Workers leave paused work out of their
 * claims; the limited claim also checks the table itself.
 *
 * The hook for anything that holds claimed work ahead of running it (a claim-ahead buffer):
 * `changes$` emits every change as it arrives, and `isPaused(queue, task)` answers for a buffered
 * execution — release what a pause now forbids instead of starting it.
 */
import { Subject, type Observable } from "rxjs";
import { parsePausePayload, type PauseChange, type PauseKind } from "../model/channels";

export type { PauseChange, PauseKind };

export class PauseState {
  private readonly queues = new Set<string>();
  private readonly tasks = new Set<string>();
  private readonly changes = new Subject<PauseChange>();

  get changes$(): Observable<PauseChange> {
    return this.changes.asObservable();
  }

  get isEmpty(): boolean {
    return this.queues.size === 0 && this.tasks.size === 0;
  }

  isPaused(queue: string, task: string): boolean {
    return this.queues.has(queue) || this.tasks.has(task);
  }

  /** A `pgconductor_pause` payload; malformed ones are ignored (the next reload corrects). */
  applyNotification(payload: string): void {
    const change = parsePausePayload(payload);
    if (change) this.set(change);
  }

  /** The full list from the table: changes against what was known are emitted. */
  replace(entries: readonly { kind: PauseKind; name: string }[]): void {
    const next = { queue: new Set<string>(), task: new Set<string>() };
    for (const entry of entries) next[entry.kind].add(entry.name);
    for (const [kind, current] of [["queue", this.queues], ["task", this.tasks]] as const) {
      for (const name of [...current]) if (!next[kind].has(name)) this.set({ paused: false, kind, name });
      for (const name of next[kind]) this.set({ paused: true, kind, name });
    }
  }

  private set(change: PauseChange): void {
    const set = change.kind === "queue" ? this.queues : this.tasks;
    if (set.has(change.name) === change.paused) return;
    if (change.paused) set.add(change.name);
    else set.delete(change.name);
    this.changes.next(change);
  }
}
