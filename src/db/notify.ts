/** A NOTIFY on a channel of our own (probes); the work channels are notified by the SQL functions. */
import type { Db } from "./db";

export async function notify(db: Db, channel: string, payload: string): Promise<void> {
  await db`select pg_notify(${channel}, ${payload})`;
}
