/**
 * Does LISTEN deliver? A NOTIFY sent to ourselves over the pool must come back on the LISTEN
 * connection within a deadline. Behind a pooler in transaction mode (pgbouncer pool_mode=transaction)
 * it never does: the LISTEN ran on a server connection that went back to the pool, and push is
 * silently dead. A half-open listener connection also fails it.
 */
import { randomUUID } from "node:crypto";
import { filter, firstValueFrom, map, race, timer, type Observable } from "rxjs";
import type { Sql } from "postgres";
import { notify } from "../db/notify";
import type { ChannelMessage } from "../streams/notifications";

/**
 * `probe$` is the probe channel, already listening (its first `listening` message arrived).
 * True when the NOTIFY arrived within `timeoutMs`.
 */
export async function listenDelivers(sql: Sql, channel: string, probe$: Observable<ChannelMessage>, timeoutMs: number): Promise<boolean> {
  const nonce = randomUUID();
  const arrived = firstValueFrom(
    race(
      probe$.pipe(filter((message) => message.type === "notification" && message.payload === nonce), map(() => true)),
      timer(timeoutMs).pipe(map(() => false)),
    ),
    { defaultValue: false },
  );
  await notify(sql, channel, nonce);
  return arrived;
}
