/** An orchestrator's record: register, heartbeat (the lease), unregister, and recovering the work of dead ones. */
import type { Db } from "./db";

export async function registerOrchestrator(db: Db, id: string, hostname: string, pid: number, schemaVersion: number) {
  await db`select pgconductor.register_orchestrator(${id}::uuid, ${hostname}, ${pid}, ${schemaVersion})`;
}

/**
 * Keeps the lease; tells whether to stop (asked to, or our record is gone) and which running
 * executions were cancelled. `held` names the executions this orchestrator holds (claimed, outcome
 * not yet written), as of `heldAt` (database time, epoch ms; default: when the statement runs): the
 * rows it locks but does not name, claimed more than `graceMs` before `heldAt`, are released (a claim
 * whose reply was lost); `released` counts them. `held: null` releases nothing.
 */
export async function heartbeat(
  db: Db,
  id: string,
  held: readonly string[] | null = null,
  graceMs = 0,
  heldAt: number | null = null,
): Promise<{ stop: boolean; cancelledIds: string[]; released: number }> {
  const at = heldAt === null ? null : new Date(heldAt);
  const [row] = await db<{ stop_requested: boolean; cancelled_ids: string[] | null; released_count: number }[]>`
    select * from pgconductor.heartbeat(${id}::uuid, ${held as string[] | null}::uuid[], ${graceMs}, ${at}::timestamptz)`;
  return { stop: row.stop_requested, cancelledIds: row.cancelled_ids ?? [], released: row.released_count };
}

export async function unregisterOrchestrator(db: Db, id: string) {
  await db`select pgconductor.unregister_orchestrator(${id}::uuid)`;
}

/** Whether this orchestrator's record asks it to stop (a control notification is only a hint). */
export async function isStopRequested(db: Db, id: string): Promise<boolean> {
  const [row] = await db<{ stop_requested: boolean }[]>`select stop_requested from pgconductor.orchestrators where id = ${id}::uuid`;
  return row?.stop_requested ?? false;
}

export async function recoverExpired(db: Db, leaseMs: number): Promise<number> {
  const [row] = await db<{ n: number }[]>`select pgconductor.recover_expired(${leaseMs}) as n`;
  return row.n;
}
