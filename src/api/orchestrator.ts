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
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_LEASE_MS } from "../model/defaults";
import { loadMigrations } from "../db/sql-files";
import type { MaintenanceReport } from "../db/maintenance";
import { Engine } from "../runtime/engine";
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
   * The LISTEN connection pings itself this often (default 15 000 ms; 0: never) and is replaced when
   * a ping is not delivered within `listenerPingTimeoutMs` (default 5 000 ms): a half-open
   * connection would otherwise leave every execution waiting for the sweep.
   */
  listenerPingIntervalMs?: number;
  listenerPingTimeoutMs?: number;
  /** Stop gracefully on SIGTERM and SIGINT, then let the process exit (default true; see signal-exit.ts). */
  handleSignals?: boolean;
  /** The time task windows are judged by (default the system clock); inject one to test windows. */
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
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private resolveStopped!: () => void;
  private running = false;
  private isStoppedFlag = false;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.conductor.logger.info(`received ${signal}, stopping gracefully`, { orchestrator: this.id });
    exitAfterStop(signal, this.stop());
  };

  private constructor(options: OrchestratorOptions) {
    if (!options?.conductor) throw new ConfigurationError("Orchestrator.create: `conductor` is required");
    const conductor = (this.conductor = options.conductor);
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.handleSignals = options.handleSignals ?? true;
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
    this.conductor.logger.debug("orchestrator started", { orchestrator: this.id, queues: this.engine.workers.map((w) => w.queue).join(",") });
  }

  private async doStop(): Promise<void> {
    await this.starting?.catch(() => {});
    process.off("SIGTERM", this.onSignal);
    process.off("SIGINT", this.onSignal);
    try {
      await this.engine.stop();
    } finally {
      this.running = false;
      this.isStoppedFlag = true;
      this.resolveStopped();
    }
  }
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
