/**
 * The orchestrator's LISTEN connection: one dedicated connection carrying every channel, which
 * keeps itself alive. We own it instead of using postgres.js `listen` because that one (a) rejects
 * into the caller when the first LISTEN fails (surfacing as an uncaught ECONNRESET through any
 * subscription without an error handler), (b) stops re-listening when a re-LISTEN after a reconnect
 * fails, and (c) cannot be told to replace a connection that went silent.
 *
 * - Channels never error: a lost connection is replaced (delays doubling from 100 ms to 5 s), and
 *   every subscriber gets `listening` after each (re)LISTEN, the moment to catch up on what was
 *   sent while it was down.
 * - A half-open connection delivers nothing and reports nothing, so the listener pings itself: every
 *   `pingIntervalMs` a NOTIFY on its own channel goes out through the pool, and when it is not
 *   delivered within `pingTimeoutMs` after it committed, the connection is replaced.
 * - An outage is logged once when it starts (warn) and once when listening resumes (info).
 * The connection is opened by `open` (default: a single postgres.js connection with the pool's
 * settings); unit tests pass stand-ins. (Over 250 lines on purpose: replacing the connection and
 * pinging it share one generation counter, which is what makes every stale callback harmless.)
 */
import { randomBytes } from "node:crypto";
import type { Sql } from "postgres";
import { BehaviorSubject, Observable, type Subscriber } from "rxjs";
import { pingChannel } from "../model/channels";
import {
  DEFAULT_LISTENER_PING_INTERVAL_MS,
  DEFAULT_LISTENER_PING_TIMEOUT_MS,
  LISTENER_RECONNECT_FIRST_MS,
  LISTENER_RECONNECT_MAX_MS,
} from "../model/defaults";
import type { Logger } from "../model/logger";
import { openPostgresConnection, type ListenConnection, type ListenHandlers } from "./listen-connection";
import type { ChannelMessage } from "./notifications";

/** `listening`: every channel is LISTENed; `reconnecting`: the connection was lost (or went silent) and is being replaced. */
export type ListenerState = "connecting" | "listening" | "reconnecting" | "closed";

export interface ListenerOptions {
  logger: Logger;
  /** Opens a dedicated connection. Default: one postgres.js connection with `sql`'s settings. */
  open?: (handlers: ListenHandlers) => ListenConnection;
  /** Sends a NOTIFY through the pool (pings). Default: pg_notify over `sql`. */
  notify?: (channel: string, payload: string) => Promise<unknown>;
  /** The pool: where the default connection's settings come from and pings are sent. */
  sql?: Sql;
  /** Ping period (default 15 000 ms); 0 turns pinging off. */
  pingIntervalMs?: number;
  /** How long a committed ping may take to arrive (default 5 000 ms). */
  pingTimeoutMs?: number;
  /** Fields added to every log line (the orchestrator id). */
  tags?: Record<string, unknown>;
}

export class Listener {
  readonly id = randomBytes(6).toString("hex");
  private readonly pingName = pingChannel(this.id);
  private readonly subscribers = new Map<string, Set<Subscriber<ChannelMessage>>>();
  private readonly stateSubject = new BehaviorSubject<ListenerState>("connecting");
  private readonly open: (handlers: ListenHandlers) => ListenConnection;
  private readonly notify: (channel: string, payload: string) => Promise<unknown>;
  private readonly pingIntervalMs: number;
  private readonly pingTimeoutMs: number;
  /** Bumped whenever a connection is replaced: callbacks of older connections are ignored. */
  private generation = 0;
  private connection: ListenConnection | null = null;
  /** Channels LISTENed on the current connection. */
  private listened = new Set<string>();
  private started = false;
  private closed = false;
  private failures = 0;
  /** Why the current outage began; null while healthy (so each outage is logged once). */
  private outage: string | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private pingDeadline: NodeJS.Timeout | null = null;
  private pingSequence = 0;
  /** The ping in flight, until it is delivered. */
  private awaitedPing: string | null = null;
  /** Replaced connections because a ping did not arrive (tests and health read it). */
  pingMisses = 0;

  constructor(private readonly options: ListenerOptions) {
    const sql = options.sql;
    this.open = options.open ?? ((handlers) => openPostgresConnection(requireSql(sql), handlers));
    this.notify = options.notify ?? ((channel, payload) => requireSql(sql)`select pg_notify(${channel}, ${payload})`);
    this.pingIntervalMs = options.pingIntervalMs ?? DEFAULT_LISTENER_PING_INTERVAL_MS;
    this.pingTimeoutMs = options.pingTimeoutMs ?? DEFAULT_LISTENER_PING_TIMEOUT_MS;
  }

  /** The connection's state; emits on every change. */
  get state$(): Observable<ListenerState> {
    return this.stateSubject.asObservable();
  }

  get state(): ListenerState {
    return this.stateSubject.value;
  }

  /**
   * Notifications of one channel, and `listening` after every (re)LISTEN. Never errors or
   * completes while the listener is open. The first subscription anywhere opens the connection.
   */
  channel(name: string): Observable<ChannelMessage> {
    return new Observable<ChannelMessage>((subscriber) => {
      if (this.closed) {
        subscriber.complete();
        return;
      }
      let set = this.subscribers.get(name);
      const isNew = !set;
      if (!set) this.subscribers.set(name, (set = new Set()));
      set.add(subscriber);
      if (!this.started) {
        this.started = true;
        this.connect();
      } else if (isNew) {
        this.listenMore();
      } else if (this.listened.has(name)) {
        // The channel is already listened: this subscriber still gets its catch-up moment.
        queueMicrotask(() => subscriber.closed || subscriber.next({ type: "listening" }));
      }
      return () => {
        set!.delete(subscriber);
        if (set!.size > 0 || this.subscribers.get(name) !== set) return;
        this.subscribers.delete(name);
        if (this.listened.delete(name)) this.connection?.run(`unlisten ${quoteIdentifier(name)}`).catch(() => {});
      };
    });
  }

  /** Closes the connection; every channel completes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.generation += 1;
    this.clearTimers();
    const connection = this.connection;
    this.connection = null;
    this.stateSubject.next("closed");
    for (const set of this.subscribers.values()) for (const subscriber of [...set]) subscriber.complete();
    this.subscribers.clear();
    await connection?.end().catch(() => {});
  }

  private connect(): void {
    if (this.closed) return;
    const generation = ++this.generation;
    this.clearTimers();
    this.listened = new Set();
    const connection = this.open({
      notify: (channel, payload) => {
        if (generation === this.generation) this.deliver(channel, payload);
      },
      closed: () => {
        if (generation === this.generation) this.lost("the LISTEN connection closed");
      },
    });
    this.connection = connection;
    const names = [this.pingName, ...this.subscribers.keys()];
    connection.run(names.map((name) => `listen ${quoteIdentifier(name)}`).join("; ")).then(
      () => {
        if (generation !== this.generation) return;
        this.failures = 0;
        names.forEach((name) => this.listened.add(name));
        if (this.outage !== null) {
          this.options.logger.info("LISTEN connection is back: listening again (missed notifications are caught up)", { ...this.options.tags });
          this.outage = null;
        }
        this.stateSubject.next("listening");
        for (const name of names) this.announceListening(name);
        this.listenMore();
        this.schedulePing(generation);
      },
      (error) => {
        if (generation === this.generation) this.lost("LISTEN failed", error);
      },
    );
  }

  /** LISTENs channels subscribed since the connection was set up. */
  private listenMore(): void {
    if (this.state !== "listening" || !this.connection) return;
    const generation = this.generation;
    const missing = [...this.subscribers.keys()].filter((name) => !this.listened.has(name));
    for (const name of missing) {
      this.listened.add(name);
      this.connection.run(`listen ${quoteIdentifier(name)}`).then(
        () => generation === this.generation && this.announceListening(name),
        (error) => generation === this.generation && this.lost("LISTEN failed", error),
      );
    }
  }

  private announceListening(name: string): void {
    for (const subscriber of [...(this.subscribers.get(name) ?? [])]) subscriber.next({ type: "listening" });
  }

  private deliver(channel: string, payload: string): void {
    if (channel === this.pingName) {
      if (payload !== this.awaitedPing) return;
      this.awaitedPing = null;
      if (this.pingDeadline) clearTimeout(this.pingDeadline);
      this.pingDeadline = null;
      this.schedulePing(this.generation);
      return;
    }
    for (const subscriber of [...(this.subscribers.get(channel) ?? [])]) subscriber.next({ type: "notification", payload });
  }

  /** The connection is gone or useless: drop it and open another after a (growing) delay. */
  private lost(reason: string, error?: unknown): void {
    if (this.closed) return;
    this.generation += 1;
    this.clearTimers();
    const old = this.connection;
    this.connection = null;
    this.listened = new Set();
    old?.end().catch(() => {});
    if (this.outage === null) {
      this.outage = reason;
      this.options.logger.warn(`${reason}; reconnecting (push resumes once it listens again)`, { ...this.options.tags, error });
    }
    this.stateSubject.next("reconnecting");
    const delay = Math.min(LISTENER_RECONNECT_FIRST_MS * 2 ** this.failures, LISTENER_RECONNECT_MAX_MS);
    this.failures += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private schedulePing(generation: number): void {
    if (this.pingIntervalMs <= 0 || this.closed) return;
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => this.ping(generation), this.pingIntervalMs);
    this.pingTimer.unref?.();
  }

  private ping(generation: number): void {
    if (generation !== this.generation) return;
    const payload = String(++this.pingSequence);
    this.awaitedPing = payload;
    this.notify(this.pingName, payload).then(
      () => {
        // Committed: it is delivered by now unless the connection went silent. Wait a little.
        if (generation !== this.generation || this.awaitedPing !== payload) return;
        this.pingDeadline = setTimeout(() => {
          if (generation !== this.generation || this.awaitedPing !== payload) return;
          this.pingMisses += 1;
          this.lost(`the LISTEN connection did not deliver its own ping within ${this.pingTimeoutMs} ms (a half-open connection, or a pooler that drops LISTEN)`);
        }, this.pingTimeoutMs);
        this.pingDeadline.unref?.();
      },
      (error) => {
        // The pool could not send it: that says nothing about the LISTEN connection. Try later.
        if (generation !== this.generation) return;
        this.awaitedPing = null;
        this.options.logger.debug("sending the LISTEN ping failed", { ...this.options.tags, error });
        this.schedulePing(generation);
      },
    );
  }

  private clearTimers(): void {
    for (const timer of [this.reconnectTimer, this.pingTimer, this.pingDeadline]) if (timer) clearTimeout(timer);
    this.reconnectTimer = this.pingTimer = this.pingDeadline = null;
    this.awaitedPing = null;
  }
}

function requireSql(sql: Sql | undefined): Sql {
  if (!sql) throw new Error("Listener: pass `sql` (or both `open` and `notify`)");
  return sql;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
