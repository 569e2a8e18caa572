import { Observable, retry, share, timer } from "rxjs";
import type { Sql } from "postgres";

export type ChannelMessage =
  /** The LISTEN connection is (again) listening: notifications sent while it was down are lost, so catch up. */
  | { type: "listening" }
  | { type: "notification"; payload: string };

/**
 * One PostgreSQL channel as an observable over postgres.js `listen` (for one-off uses; the
 * orchestrator uses a Listener, listener.ts, which also survives half-open connections).
 * postgres.js keeps a dedicated LISTEN connection and listens again after a reconnect, calling
 * `onlisten` each time; we surface that as `listening`. A LISTEN that fails is reported to
 * `onError` and tried again a second later: the stream never errors, so no subscriber can turn a
 * connection failure into an uncaught exception. Unsubscribing runs UNLISTEN. Shared.
 */
export function channel$(sql: Sql, name: string, onError: (error: unknown) => void = () => {}): Observable<ChannelMessage> {
  return new Observable<ChannelMessage>((subscriber) => {
    let unlisten: (() => Promise<void>) | null = null;
    let closed = false;
    sql
      .listen(
        name,
        (payload) => subscriber.next({ type: "notification", payload }),
        () => subscriber.next({ type: "listening" }),
      )
      .then((meta) => {
        if (closed) return meta.unlisten().catch(onError);
        unlisten = meta.unlisten;
      })
      .catch((error) => subscriber.error(error));
    return () => {
      closed = true;
      unlisten?.().catch(onError);
    };
  }).pipe(
    retry({ delay: (error) => (onError(error), timer(1_000)) }),
    share(),
  );
}
