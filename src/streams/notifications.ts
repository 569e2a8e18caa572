import { Observable, share } from "rxjs";
import type { Sql } from "postgres";

export type ChannelMessage =
  /** The LISTEN connection is (again) listening: notifications sent while it was down are lost, so catch up. */
  | { type: "listening" }
  | { type: "notification"; payload: string };

/**
 * One PostgreSQL channel as an observable. postgres.js keeps a dedicated LISTEN connection and
 * listens again after a reconnect, calling `onlisten` each time; we surface that as `listening`.
 * Unsubscribing runs UNLISTEN. Shared, so any number of workers cost one LISTEN.
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
      .catch((error) => {
        onError(error);
        subscriber.error(error);
      });
    return () => {
      closed = true;
      unlisten?.().catch(onError);
    };
  }).pipe(share());
}
