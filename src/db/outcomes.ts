/**
 * The end of an attempt and state changes from outside: complete, fail, release, mark cancelled,
 * cancel on request, retry a failed execution, and immediate removal of finished ones.
 */
import type { Db } from "./db";
import { json } from "./db";

export async function completeExecutions(db: Db, ids: readonly string[], results: readonly unknown[]) {
  await db`select pgconductor.complete(${ids as string[]}::uuid[], ${results.map(json)}::text[]::jsonb[])`;
}

export async function failExecutions(db: Db, ids: readonly string[], errors: readonly string[], final: readonly boolean[]) {
  await db`select pgconductor.fail(${ids as string[]}::uuid[], ${errors as string[]}::text[], ${final.map(String)}::text[]::boolean[])`;
}

export async function releaseExecutions(db: Db, ids: readonly string[]) {
  await db`select pgconductor.release(${ids as string[]}::uuid[])`;
}

export async function markCancelled(db: Db, ids: readonly string[]) {
  await db`select pgconductor.mark_cancelled(${ids as string[]}::uuid[])`;
}

export async function cancelExecution(db: Db, id: string, reason: string | null): Promise<boolean> {
  const [row] = await db<{ cancelled: boolean }[]>`select pgconductor.cancel(${id}::uuid, ${reason}) as cancelled`;
  return row.cancelled;
}

/** The status before the call ('failed' means it now runs again), or null when there is no such execution. */
export async function retryExecution(db: Db, id: string): Promise<string | null> {
  const [row] = await db<{ previous: string | null }[]>`select pgconductor.retry(${id}::uuid) as previous`;
  return row.previous;
}

export async function removeFinished(db: Db, completed: readonly string[], failed: readonly string[]) {
  await db`select pgconductor.remove_finished(${completed as string[]}::uuid[], ${failed as string[]}::uuid[])`;
}
