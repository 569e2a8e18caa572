/**
 * The observing side of execution events. The first subscriber opens a dedicated postgres.js
 * instance (so its LISTEN connection is ours alone), listens on `pgconductor_events` (and on
 * `pgconductor_pause`, for pause and resume announcements), then registers
 * in `pgconductor.observers` (only then do transitions start announcing). The last subscriber to
 * leave unlistens, deregisters and ends that instance, so no connection stays behind.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { Observable, Subject } from "rxjs";
import type { Sql } from "postgres";
import { removeObserver, stillInProgress, touchObserver, transactionsInProgress } from "../db/observability";
import { EVENTS_CHANNEL, PAUSE_CHANNEL, parseEventPayload, parsePausePayload, type PauseChange, type WireEvent } from "../model/channels";

export type HubMessage =
  /** Listening and registered (again, after a reconnect): anything finished before now is in the tables. */
  | { type: "ready" }
  | { type: "events"; events: WireEvent[] }
  /** A queue or task was paused or resumed (any process). */
  | { type: "pause"; change: PauseChange };

export interface ObserverHubDeps {
  /** Queries (registration, reads) go through the application's pool. */
  sql: Sql;
  /** A new postgres.js instance used only to LISTEN; ended when nobody observes. */
  connectListener(): Sql;
  ensureInstalled(): Promise<void>;
  onError(message: string, error: unknown): void;
  /** How often the registration is refreshed (rows older than 90 s are ignored by the database). */
  refreshMs?: number;
}

interface Session {
  subject: Subject<HubMessage>;
  ready: boolean;
  refs: number;
  close(): Promise<void>;
}

export class ObserverHub {
  private session: Session | null = null;
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly deps: ObserverHubDeps) {}

  /** Messages of the shared session; `ready` is replayed to a subscriber that joins a ready session. */
  messages(): Observable<HubMessage> {
    return new Observable<HubMessage>((subscriber) => {
      const session = this.acquire();
      if (session.ready) subscriber.next({ type: "ready" });
      const subscription = session.subject.subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        this.release(session);
      };
    });
  }

  /** Whether a listen session is open (someone observes). */
  get active(): boolean {
    return this.session !== null;
  }

  /** Ends observation: current subscribers complete, and the connection is closed. */
  async shutdown(): Promise<void> {
    const session = this.session;
    if (session) {
      this.session = null;
      this.track(session.close());
      session.subject.complete();
    }
    await this.settled();
  }

  /** Resolves once every closed session has ended its connection. */
  async settled(): Promise<void> {
    while (this.closing.size > 0) await Promise.all([...this.closing]);
  }

  private acquire(): Session {
    if (!this.session) this.session = this.open();
    this.session.refs += 1;
    return this.session;
  }

  private release(session: Session): void {
    session.refs -= 1;
    if (session.refs > 0) return;
    if (this.session === session) this.session = null;
    this.track(session.close());
  }

  private track(closing: Promise<void>): void {
    const done = closing.finally(() => this.closing.delete(done));
    this.closing.add(done);
  }

  private open(): Session {
    const { sql, ensureInstalled, onError } = this.deps;
    const id = randomUUID();
    const subject = new Subject<HubMessage>();
    const listener = this.deps.connectListener();
    let closed = false;
    const unlistens: (() => Promise<void>)[] = [];
    let listening: Promise<void> = Promise.resolve();
    let registering: Promise<void> = Promise.resolve();
    const register = () => (registering = touchObserver(sql, id, hostname(), process.pid));
    let closing: Promise<void> | null = null;
    const session: Session = {
      subject,
      ready: false,
      refs: 0,
      close: () => (closing ??= end()),
    };
    const end = async () => {
      closed = true;
      clearInterval(timer);
      await listening;
      await registering.catch(() => {}); // a registration in flight would outlive the removal below
      for (const unlisten of unlistens) await unlisten().catch((error) => onError("UNLISTEN failed", error));
      await removeObserver(sql, id).catch((error) => onError("removing the observer registration failed", error));
      await listener.end({ timeout: 5 }).catch((error) => onError("closing the observer connection failed", error));
    };
    const fail = (error: unknown) => {
      if (closed) return;
      onError("observing executions failed", error);
      if (this.session === session) this.session = null;
      subject.error(error);
    };
    // A transition that checked for observers just before our registration committed sends no
    // event, and may commit after the catch-up read that follows `ready`: once every transaction
    // in flight at registration has ended, subscribers read again.
    const afterInFlight = async (inFlight: string[]) => {
      for (let waitMs = 2; inFlight.length > 0; waitMs = Math.min(waitMs * 2, 1_000)) {
        await new Promise((resolve) => setTimeout(resolve, waitMs).unref?.());
        if (closed) return;
        inFlight = await stillInProgress(sql, inFlight);
      }
      if (!closed) subject.next({ type: "ready" });
    };
    const timer = setInterval(() => {
      if (!closed) register().catch((error) => onError("refreshing the observer registration failed", error));
    }, this.deps.refreshMs ?? 30_000);
    timer.unref?.();

    // The pause channel first, so that `ready` (from the events channel's listen) means both listen.
    // end() waits for this chain, then unlistens whatever it set up.
    listening = ensureInstalled()
      .then(async () => {
        if (closed) return; // a listen started after end() would open a connection nobody ends
        const pauses = await listener.listen(PAUSE_CHANNEL, (payload) => {
          const change = parsePausePayload(payload);
          if (change && !closed) subject.next({ type: "pause", change });
        });
        unlistens.push(pauses.unlisten);
        if (closed) return;
        const events = await listener.listen(
          EVENTS_CHANNEL,
          (payload) => {
            if (!closed) subject.next({ type: "events", events: parseEventPayload(payload) });
          },
          // Runs after every (re)LISTEN: register, then tell subscribers to catch up from the tables.
          () => {
            if (closed) return;
            register()
              .then(() => transactionsInProgress(sql))
              .then((inFlight) => {
                if (closed) return;
                session.ready = true;
                subject.next({ type: "ready" });
                return afterInFlight(inFlight);
              })
              .catch(fail);
          },
        );
        unlistens.push(events.unlisten);
      })
      .catch(fail);
    return session;
  }
}
