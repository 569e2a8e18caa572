/** The dedicated connection a Listener (listener.ts) LISTENs on, and its stand-in's shape. */
import postgres, { type Sql } from "postgres";

export interface ListenConnection {
  /** Runs a statement without parameters (LISTEN/UNLISTEN). */
  run(statement: string): Promise<unknown>;
  end(): Promise<unknown>;
}

export interface ListenHandlers {
  notify(channel: string, payload: string): void;
  /** The connection closed (or failed); called at most once per connection. */
  closed(): void;
}

/**
 * One postgres.js connection with the pool's settings, never idle-closed. Its own retry counter,
 * so our reconnects do not slow the pool's backoff; its own notify and close callbacks.
 */
export function openPostgresConnection(sql: Sql, handlers: ListenHandlers): ListenConnection {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    handlers.closed();
  };
  const options = {
    ...(sql.options as unknown as Record<string, unknown>),
    max: 1,
    idle_timeout: null,
    max_lifetime: null,
    fetch_types: false,
    shared: { retries: 0, typeArrayMap: {} },
    onnotice: () => {},
    onnotify: (channel: string, payload: string) => handlers.notify(channel, payload),
    onclose: close,
  };
  const connection = postgres(options as unknown as postgres.Options<{}>);
  return {
    run: (statement) => connection.unsafe(statement),
    end: () => connection.end({ timeout: 0 }),
  };
}
