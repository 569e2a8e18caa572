/**
 * The Orchestrator runs workers for a Conductor's tasks: it registers itself (a lease kept by
 * heartbeats), listens for work and cancellations, recovers the work of dead orchestrators, and
 * stops gracefully on stop(), SIGTERM or SIGINT.
 */
import { randomUUID } from "node:crypto";
import type { Conductor } from "./conductor";
import { ConfigurationError } from "../model/errors";
import type { Task } from "../model/task";
import { resolveWorkerConfig, type WorkerConfig, type WorkerDefinition } from "../model/worker-config";
import postgres, { type Sql } from "postgres";
import { map, type Observable } from "rxjs";
import {
  DEFAULT_DEGRADED_POLL_INTERVAL_MS, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_LEASE_MS, DEFAULT_LISTEN_PROBE_TIMEOUT_MS, DEFAULT_STOP_TIMEOUT_MS,
} from "../model/defaults";
import { toOrchestratorHealth, type OrchestratorHealth } from "./health";
import { loadMigrations } from "../db/sql-files";
import type { MaintenanceReport } from "../db/maintenance";
import { Engine } from "../runtime/engine";
import { preparedStatementsOff } from "../runtime/pooler";
import { runMaintenance } from "../runtime/maintenance";
import { exitAfterStop } from "./signal-exit";

export interface OrchestratorOptions {
  conductor: Conductor<any, any, any>;
  /** Tasks for the default workers (one per queue). Default: every task created on the conductor, unless `workers` is given. */
  tasks?: readonly Task[];
  /** Custom workers from conductor.createWorker(). */
  workers?: readonly WorkerDefinition[];
  /** Config of the default workers. */
  defaultWorker?: WorkerConfig;
  /** How often the lease is renewed and dead orchestrators are looked for (default 5 000 ms). */
  heartbeatIntervalMs?: number;
  /** An orchestrator silent this long is dead and its executions run again (default 30 000 ms). */
  leaseMs?: number;
  /**
   * stop() (and SIGTERM/SIGINT) waits this long for running handlers to reach their next step,
   * checkpoint or end; then ctx.signal aborts and they are released to run again, no attempt spent
   * (default 25 000 ms; Infinity waits for ever).
   */
  stopTimeoutMs?: number;
  /**
   * A direct (or session-mode) URL of the same database for the connections that need a session:
   * LISTEN, logical replication and the consumer's session lock. Give it when `sql` goes through a
   * pooler in transaction mode (pgbouncer pool_mode=transaction); prepared statements on `sql` are
   * then turned off.
   */
  listenConnectionString?: string;
  /** While push does not deliver (LISTEN behind a transaction pooler, a lost listener), workers sweep this often (default 1 000 ms). */
  degradedPollIntervalMs?: number;
  /** A self-addressed NOTIFY (and the health round's clock read) must arrive within this (default 2 000 ms). */
  listenProbeTimeoutMs?: number;
  /**
   * The LISTEN connection pings itself this often (default 15 000 ms; 0: never) and is replaced when
   * a ping is not delivered within `listenerPingTimeoutMs` (default 5 000 ms): a half-open
   * connection would otherwise leave every execution waiting for the sweep.
   */
  listenerPingIntervalMs?: number;
  listenerPingTimeoutMs?: number;
  /** Stop gracefully on SIGTERM and SIGINT, then let the process exit (default true; see signal-exit.ts). */
  handleSignals?: boolean;
  /**
   * The local fast path (default true; false turns it off): a single `conductor.invoke` in this process of a task one of
   * this orchestrator's workers runs, when that worker is idle (its last claim found nothing), is
   * written already claimed by it and starts without a notification and a claim: one commit instead
   * of three round trips. Only for executions due now with no dedupe key, throttle, debounce or
   * concurrency key, of tasks without limits, batching, pause or closed window, outside a caller's
   * transaction. The execution then runs here even if other orchestrators are idle too (as Temporal's
   * SDKs run activities eagerly on the requesting worker by default).
   */
  localDispatch?: boolean;
  /** The time task windows are judged by (default the database's clock); inject one to test windows. */
  clock?: () => Date;
}

export interface OrchestratorInfo {
  id: string;
  isRunning: boolean;
  isShuttingDown: boolean;
  isStopped: boolean;
}

export class Orchestrator {
  readonly id = randomUUID();
  /** Resolves once the orchestrator has stopped. */
  readonly stopped: Promise<void>;
  private readonly conductor: Conductor<any, any, any>;
  private readonly engine: Engine;
  private readonly leaseMs: number;
  private readonly handleSignals: boolean;
  /** The pool on listenConnectionString, opened here and ended at stop. */
  private readonly sessionSql: Sql | null;
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private resolveStopped!: () => void;
  private running = false;
  private readonly localDispatch: boolean;
  private detachLocalDispatch: (() => void) | null = null;
  private isStoppedFlag = false;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.conductor.logger.info(`received ${signal}, stopping gracefully`, { orchestrator: this.id });
    exitAfterStop(signal, this.stop());
  };

  private constructor(options: OrchestratorOptions) {
    if (!options?.conductor) throw new ConfigurationError("Orchestrator.create: `conductor` is required");
    const conductor = (this.conductor = options.conductor);
    this.sessionSql = sessionPool(conductor.sql, options.listenConnectionString);
    // Before anything runs through the pool (the schema check at start included).
    if (this.sessionSql) preparedStatementsOff(conductor.sql, conductor.logger, "listenConnectionString is given, so the main pool is taken for a transaction pooler");
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.handleSignals = options.handleSignals ?? true;
    this.localDispatch = options.localDispatch ?? true;
    this.engine = new Engine({
      id: this.id,
      sql: conductor.sql,
      logger: conductor.logger,
      context: conductor.context,
      prepareChild: (ref, payload) => conductor.prepareInvoke(ref, payload),
      scheduler: conductor,
      workers: planWorkers(options),
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      leaseMs: this.leaseMs,
      stopTimeoutMs: stopTimeoutOf(options.stopTimeoutMs),
      sessionSql: this.sessionSql ?? undefined,
      listenProbeTimeoutMs: positiveMs("listenProbeTimeoutMs", options.listenProbeTimeoutMs, DEFAULT_LISTEN_PROBE_TIMEOUT_MS),
      degradedPollIntervalMs: positiveMs("degradedPollIntervalMs", options.degradedPollIntervalMs, DEFAULT_DEGRADED_POLL_INTERVAL_MS),
      clock: options.clock,
      listenerPingIntervalMs: options.listenerPingIntervalMs,
      listenerPingTimeoutMs: options.listenerPingTimeoutMs,
      requestStop: () => void this.stop(),
    });
    this.stopped = new Promise<void>((resolve) => (this.resolveStopped = resolve));
  }

  static create(options: OrchestratorOptions): Orchestrator {
    return new Orchestrator(options);
  }

  get info(): OrchestratorInfo {
    return { id: this.id, isRunning: this.running, isShuttingDown: this.stopping !== null && !this.isStoppedFlag, isStopped: this.isStoppedFlag };
  }

  /**
   * What the orchestrator last found about itself (checked every heartbeat interval): the database
   * reachable or not, push listening or degraded to a sweep, the table-change consumer's mode and lag.
   */
  get health(): OrchestratorHealth {
    return toOrchestratorHealth(this.engine.health.snapshot);
  }

  /** Emits the health at once and on every change of a part (each change is also logged once). */
  get health$(): Observable<OrchestratorHealth> {
    return this.engine.health.changes$.pipe(map(toOrchestratorHealth));
  }

  start(): Promise<void> {
    if (this.stopping) return Promise.reject(new ConfigurationError("Orchestrator: cannot start after stop()"));
    this.starting ??= this.doStart();
    return this.starting;
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /** Starts, runs until nothing is runnable now and nothing runs (future work does not count), then stops. */
  async drain(): Promise<void> {
    await this.start();
    await this.engine.drained(() => this.stopping !== null);
    await this.stop();
  }

  /** Runs retention and cleanup now (also when not started), unless another orchestrator is running them. */
  runMaintenance(): Promise<MaintenanceReport | null> {
    return runMaintenance(this.conductor.sql, { leaseMs: this.leaseMs });
  }

  private async doStart(): Promise<void> {
    await this.conductor.ensureInstalled();
    await this.engine.start(loadMigrations().at(-1)?.version ?? 0);
    if (this.handleSignals) {
      process.once("SIGTERM", this.onSignal);
      process.once("SIGINT", this.onSignal);
    }
    this.running = true;
    if (this.localDispatch && !this.stopping) this.detachLocalDispatch = this.conductor.attachLocalDispatch(this.engine);
    this.conductor.logger.debug("orchestrator started", { orchestrator: this.id, queues: this.engine.workers.map((w) => w.queue).join(",") });
  }

  private async doStop(): Promise<void> {
    await this.starting?.catch(() => {});
    this.detachLocalDispatch?.();
    process.off("SIGTERM", this.onSignal);
    process.off("SIGINT", this.onSignal);
    try {
      await this.engine.stop();
    } finally {
      await this.sessionSql?.end({ timeout: 5 }).catch(() => {});
      this.running = false;
      this.isStoppedFlag = true;
      this.resolveStopped();
    }
  }
}

function positiveMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(`Orchestrator.create: ${name} must be a positive number of milliseconds (got ${String(value)})`);
  }
  return value;
}

/** A small pool on the direct URL, with the main pool's reconnect backoff and no notices. */
function sessionPool(sql: Sql, url: string | undefined): Sql | null {
  if (url === undefined) return null;
  if (typeof url !== "string" || url.length === 0) throw new ConfigurationError("Orchestrator.create: listenConnectionString must be a non-empty connection string");
  const backoff = (sql.options as unknown as { backoff?: (attempts: number) => number }).backoff;
  return postgres(url, { max: 2, onnotice: () => {}, ...(backoff ? { backoff } : {}) });
}

function stopTimeoutOf(value: number | undefined): number {
  if (value === undefined) return DEFAULT_STOP_TIMEOUT_MS;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new ConfigurationError(`Orchestrator.create: stopTimeoutMs must be a non-negative number of milliseconds or Infinity (got ${String(value)})`);
  }
  return value;
}

/** Default workers (one per queue of `tasks`) plus the custom ones; a task runs in one worker only. */
function planWorkers(options: OrchestratorOptions): WorkerDefinition[] {
  const custom = options.workers ?? [];
  const defaults = options.tasks ?? (custom.length > 0 ? [] : [...options.conductor.tasks.values()]);
  const byQueue = new Map<string, Task[]>();
  for (const task of defaults) byQueue.set(task.queue, [...(byQueue.get(task.queue) ?? []), task]);
  const config = resolveWorkerConfig(options.defaultWorker);
  const planned = [...custom, ...[...byQueue].map(([queue, tasks]) => ({ queue, tasks, config }))];
  const seen = new Set<string>();
  for (const worker of planned) {
    for (const task of worker.tasks) {
      if (seen.has(task.name)) throw new ConfigurationError(`Orchestrator: task "${task.name}" is given to more than one worker`);
      seen.add(task.name);
    }
  }
  return planned;
}
