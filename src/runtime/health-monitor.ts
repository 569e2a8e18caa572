/**
 * The orchestrator's health, checked every round (the heartbeat interval): is the database
 * reachable (a clock read with a deadline, which also measures the clock offset), does push work
 * (a NOTIFY to ourselves must arrive on the LISTEN connection), and how is the table-change
 * consumer doing. Each change of a part is logged once, emitted on `changes$`, and stored on the
 * orchestrator's record for `pgconductor status`. When push does not deliver, `pushDegraded$`
 * turns true and workers sweep at the short degraded interval instead, so latency stays bounded.
 */
import { BehaviorSubject, distinctUntilChanged, filter, firstValueFrom, interval, map, race, Subscription, timer, type Observable } from "rxjs";
import { coalesceRuns } from "./coalesce";
import type { Sql } from "postgres";
import type { Logger } from "../model/logger";
import type { ChannelMessage } from "../streams/notifications";
import { writeHealth, readConsumerLag } from "../db/health";
import type { ConsumerHealth, ConsumerMode } from "./table-changes/consumer-health";
import type { MeasuredClock } from "./db-clock";
import { listenDelivers } from "./listen-probe";

export type HealthStatus = "starting" | "ok" | "degraded" | "down" | "stopped";

export interface HealthSnapshot {
  /** ok: all parts work; degraded: work runs, but slower (push fell back to the sweep, or the table-change consumer fails); down: the database is unreachable. */
  status: HealthStatus;
  database: {
    reachable: boolean;
    /** Why the last check failed. */
    error: string | null;
    /** Database clock minus this process's clock, in ms (null until measured). */
    clockOffsetMs: number | null;
  };
  push: {
    /** listening: LISTEN delivers; sweeping: it does not, and workers sweep every `sweepIntervalMs`. */
    mode: "listening" | "sweeping";
    reason: string | null;
    sweepIntervalMs: number | null;
  };
  /** null when this orchestrator runs no table trigger. */
  tableChanges: { mode: ConsumerMode; failure: string | null; lagBytes: number | null } | null;
  /** When the status last changed. */
  since: Date;
  checkedAt: Date | null;
}

export interface HealthMonitorOptions {
  sql: Sql;
  logger: Logger;
  orchestratorId: string;
  clock: MeasuredClock;
  probeChannel: string;
  /** The probe channel on the LISTEN connection, kept subscribed by the engine. */
  probe$: Observable<ChannelMessage>;
  /** How long a check (clock read, self-NOTIFY) may take before it counts as failed. */
  probeTimeoutMs: number;
  degradedSweepMs: number;
  /** How the direct URL for LISTEN is set, for the warning's fix. */
  usesListenUrl: boolean;
  consumer(): ConsumerHealth | null;
}

export class HealthMonitor {
  private readonly state$: BehaviorSubject<HealthSnapshot>;
  private rounds = 0;
  private ticking: Subscription | null = null;
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: HealthMonitorOptions) {
    this.state$ = new BehaviorSubject<HealthSnapshot>({
      status: "starting",
      database: { reachable: false, error: null, clockOffsetMs: null },
      push: { mode: "listening", reason: null, sweepIntervalMs: null },
      tableChanges: null,
      since: new Date(),
      checkedAt: null,
    });
  }

  get snapshot(): HealthSnapshot {
    return this.state$.value;
  }

  /** Every change of a part (not of lag, offset or check time). */
  get changes$(): Observable<HealthSnapshot> {
    return this.state$.pipe(distinctUntilChanged((a, b) => keyOf(a) === keyOf(b)));
  }

  get pushDegraded$(): Observable<boolean> {
    return this.state$.pipe(map((s) => s.push.mode === "sweeping"), distinctUntilChanged());
  }

  /** One round; never throws. */
  async check(): Promise<HealthSnapshot> {
    const { sql, clock, probeTimeoutMs } = this.options;
    const previous = this.snapshot;
    const first = this.rounds++ === 0;
    let database: HealthSnapshot["database"];
    try {
      await withDeadline(clock.measure(sql), probeTimeoutMs, `no answer within ${probeTimeoutMs} ms`);
      database = { reachable: true, error: null, clockOffsetMs: clock.offsetMs };
    } catch (error) {
      database = { reachable: false, error: messageOf(error), clockOffsetMs: previous.database.clockOffsetMs };
    }
    let push = previous.push;
    let tableChanges = previous.tableChanges;
    if (database.reachable) {
      const delivers = await listenDelivers(sql, this.options.probeChannel, this.options.probe$, probeTimeoutMs).catch(() => null);
      // null: the NOTIFY itself failed (the database went away meanwhile); keep what we knew.
      if (delivers !== null) push = delivers ? { mode: "listening", reason: null, sweepIntervalMs: null } : this.sweeping(first);
      tableChanges = await this.consumerState();
    }
    const status: HealthStatus = !database.reachable ? "down"
      : push.mode === "sweeping" || tableChanges?.mode === "failing" ? "degraded" : "ok";
    const next: HealthSnapshot = {
      status, database, push, tableChanges,
      since: status === previous.status ? previous.since : new Date(),
      checkedAt: new Date(),
    };
    this.logChanges(previous, next, first);
    const changed = keyOf(previous) !== keyOf(next);
    this.state$.next(next);
    if (changed && database.reachable) {
      await writeHealth(sql, this.options.orchestratorId, publicHealth(next)).catch((error) =>
        this.options.logger.debug("storing the orchestrator's health failed", { error }));
    }
    return next;
  }

  /** Waits until the probe channel listens (bounded), runs the first round, then one every `intervalMs`. */
  async start(intervalMs: number): Promise<HealthSnapshot> {
    const listening = this.options.probe$.pipe(filter((message) => message.type === "listening"), map(() => true));
    await firstValueFrom(race(listening, timer(this.options.probeTimeoutMs).pipe(map(() => false))), { defaultValue: false });
    const first = await this.check();
    this.ticking = interval(intervalMs)
      .pipe(coalesceRuns(() => (this.inFlight = this.check()), () => {}))
      .subscribe();
    return first;
  }

  async stop(): Promise<void> {
    this.ticking?.unsubscribe();
    await this.inFlight.catch(() => {});
    this.stopped();
  }

  private stopped(): void {
    if (this.state$.closed || this.state$.isStopped) return;
    this.state$.next({ ...this.snapshot, status: "stopped", since: new Date() });
    this.state$.complete();
  }

  private sweeping(atStart: boolean): HealthSnapshot["push"] {
    const { probeTimeoutMs, degradedSweepMs } = this.options;
    const reason = atStart
      ? `a NOTIFY this orchestrator sent itself did not arrive within ${probeTimeoutMs} ms of starting: LISTEN does not deliver. ` +
        "The usual cause is a connection pooler in transaction mode (pgbouncer pool_mode=transaction), which does not keep the LISTEN session"
      : `a NOTIFY this orchestrator sent itself did not arrive within ${probeTimeoutMs} ms: the LISTEN connection is lost or stalled`;
    return { mode: "sweeping", reason, sweepIntervalMs: degradedSweepMs };
  }

  private async consumerState(): Promise<HealthSnapshot["tableChanges"]> {
    const consumer = this.options.consumer();
    if (!consumer || consumer.mode === "idle") return null;
    const lagBytes = consumer.mode === "consuming" ? await readConsumerLag(this.options.sql).catch(() => null) : null;
    return { mode: consumer.mode, failure: consumer.failure ? `${consumer.failure.cause}. Fix: ${consumer.failure.fix}` : null, lagBytes };
  }

  private logChanges(previous: HealthSnapshot, next: HealthSnapshot, first: boolean): void {
    const { logger, orchestratorId: orchestrator, degradedSweepMs, usesListenUrl } = this.options;
    if (previous.database.reachable !== next.database.reachable && !(first && next.database.reachable)) {
      if (next.database.reachable) logger.info("health: the database is reachable again", { orchestrator });
      else logger.error(`health: the database is unreachable (${next.database.error}); work waits until it is back`, { orchestrator });
    }
    if (previous.push.mode !== next.push.mode) {
      if (next.push.mode === "sweeping") {
        const fix = usesListenUrl
          ? "check that listenConnectionString is a direct or session-mode URL of the same database"
          : "pass Orchestrator.create({ listenConnectionString }) with a direct or session-mode URL for the LISTEN and replication connections";
        logger.warn(`health: push is degraded to a sweep every ${degradedSweepMs} ms: ${next.push.reason}. Fix: ${fix}`, { orchestrator });
      } else {
        logger.info("health: push works again (LISTEN delivers)", { orchestrator });
      }
    }
    const partLogged = previous.database.reachable !== next.database.reachable || previous.push.mode !== next.push.mode;
    // The consumer logs its own failures (consumer-health.ts); the status change is news here.
    if (next.status !== previous.status && !first && !partLogged) logger.info(`health: ${previous.status} -> ${next.status}`, { orchestrator });
  }
}

/** The parts whose change is news (not lag, offset or check time). */
function keyOf(s: HealthSnapshot): string {
  return JSON.stringify([s.status, s.database.reachable, s.push.mode, s.tableChanges?.mode ?? null, s.tableChanges?.failure ?? null]);
}

function publicHealth(s: HealthSnapshot) {
  return {
    status: s.status,
    since: s.since.toISOString(),
    push: s.push.mode,
    pushReason: s.push.reason,
    sweepIntervalMs: s.push.sweepIntervalMs,
    clockOffsetMs: s.database.clockOffsetMs,
    tableChanges: s.tableChanges && { mode: s.tableChanges.mode, failure: s.tableChanges.failure },
  };
}

function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    work.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message || (error as { code?: string }).code || error.name : String(error));
