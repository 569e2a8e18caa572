/** Runnable executions per queue, for the pgconductor.queue.depth gauge (read at metric collection). */
import type { Db } from "./db";

/**
 * Pending and due, per queue; a queue with none is reported as 0. One statement over the partial
 * claim index (pending rows only, led by queue): finished rows, however many, are not visited.
 */
export async function readQueueDepths(db: Db, queues: readonly string[]): Promise<{ queue: string; depth: number }[]> {
  const rows = await db<{ queue: string; depth: number }[]>`
    select q.queue, (
      select count(*)::int from pgconductor.executions e
      where e.queue = q.queue and e.status = 'pending' and e.run_at <= now()
    ) as depth
    from unnest(${queues as string[]}::text[]) as q(queue)`;
  return rows.map((row) => ({ queue: row.queue, depth: row.depth }));
}
