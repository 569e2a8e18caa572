/**
 * The Orchestrator runs workers for a Conductor's tasks: it registers itself (a lease kept by
 * heartbeats), listens for work and cancellations, recovers the work of dead orchestrators, and
 * stops gracefully on stop(), SIGTERM or SIGINT.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { filter, map, Subscription, type Observable, firstValueFrom, race, merge, timer } from "rxjs";
import type { Conductor, WorkerDefinition } from "./conductor";
import { ConfigurationError } from "./errors";
import { taggedLogger } from "./logger";
import type { Task } from "./task";
import { loadMigrations } from "../db/sql-files";
import { hasOutstandingWork, heartbeat, recoverExpired, registerOrchestrator, unregisterOrchestrator, upsertTasks } from "../db/queries";
import { channel$, parseWorkNotification, type ChannelMessage } from "../streams/notifications";
import { createTaskContext } from "../runtime/task-context";
import { Worker } from "../runtime/worker";
import type { OrchestratorService } from "../runtime/service";
import { planServices } from "../runtime/plan-services";
import { resolveWorkerConfig, type WorkerConfig } from "../runtime/worker-config";
import { configureTasks, type MaintenanceReport } from "../db/execution-control";
import { settingsOf } from "./task-settings";
import { runMaintenance } from "../runtime/maintenance";
import { PauseState } from "../runtime/pause-state";
import { configureFlow, listPauses } from "../db/flow-control";
import { flowSettingsOf } from "../model/flow-settings";

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
  /** Stop gracefully on SIGTERM and SIGINT (default true). */
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
  private readonly workers: Worker[];
  private readonly services: OrchestratorService[];
  private readonly subscription = new Subscription();
  /** Paused queues and tasks, shared by this orchestrator's workers. */
  readonly pauses = new PauseState();
  private readonly heartbeatIntervalMs: number;
  private readonly leaseMs: number;
  private readonly handleSignals: boolean;
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private resolveStopped!: () => void;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private running = false;
  private isStoppedFlag = false;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.conductor.logger.info(`received ${signal}, stopping gracefully`, { orchestrator: this.id });
    void this.stop();
  };

  private constructor(options: OrchestratorOptions) {
    if (!options?.conductor) throw new ConfigurationError("Orchestrator.create: `conductor` is required");
    this.conductor = options.conductor;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5_000;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.handleSignals = options.handleSignals ?? true;
    this.workers = planWorkers(options).map(
      (definition) =>
        new Worker(definition.queue, definition.tasks, definition.config, {
          sql: this.conductor.sql,
          orchestratorId: this.id,
          logger: this.conductor.logger,
          clock: options.clock,
          pauses: this.pauses,
          makeBatchContext: (task, signal) => ({
            ...this.conductor.context,
            logger: taggedLogger(this.conductor.logger, { task: task.name, queue: task.queue }),
            signal,
          }),
          makeContext: (task, execution, control) =>
            createTaskContext({
              sql: this.conductor.sql,
              control,
              context: this.conductor.context,
              logger: taggedLogger(this.conductor.logger, { task: task.name, execution: execution.id, queue: execution.queue }),
              children: { prepareChild: (ref, payload) => this.conductor.prepareInvoke(ref, payload) },
              schedules: this.conductor,
            }),
        }),
    );
    this.services = planServices(this.conductor, this.workers.flatMap((worker) => worker.tasks));
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
    const queues = this.workers.map((worker) => worker.queue);
    while (!this.stopping) {
      // Work of a task outside its time window is not runnable now, so it does not hold drain.
      const taskKeys = this.workers.flatMap((worker) => worker.claimableTaskKeys());
      const idle = this.workers.every((worker) => worker.isIdle());
      if (idle && !(await hasOutstandingWork(this.conductor.sql, queues, taskKeys)) && this.workers.every((w) => w.isIdle())) break;
      // Look again when a worker runs dry, or after a while for work other orchestrators hold.
      await firstValueFrom(race(merge(...this.workers.map((worker) => worker.idle)), timer(250)), { defaultValue: undefined });
    }
    await this.stop();
  }

  private async doStart(): Promise<void> {
    const { sql, logger } = this.conductor;
    await this.conductor.ensureInstalled();
    const schemaVersion = loadMigrations().at(-1)?.version ?? 0;
    await registerOrchestrator(sql, this.id, hostname(), process.pid, schemaVersion);
    const tasks = this.workers.flatMap((worker) => worker.tasks);
    await upsertTasks(sql, tasks.map((task) => ({ key: task.name, queue: task.queue, maxAttempts: task.maxAttempts })));
    await configureTasks(sql, tasks.map((task) => ({ key: task.name, settings: settingsOf(task) })));
    await configureFlow(sql, tasks.map((task) => ({ key: task.name, flow: flowSettingsOf(task) })));
    this.pauses.replace(await listPauses(sql));

    const onListenError = (error: unknown) => logger.error("LISTEN failed", { orchestrator: this.id, error });
    const work = channel$(sql, "pgconductor_work", onListenError);
    const work$ = work.pipe(
      filter((message): message is Extract<ChannelMessage, { type: "notification" }> => message.type === "notification"),
      map((message) => parseWorkNotification(message.payload)),
      filter((notification): notification is { queue: string; runAt: number } => notification !== null),
    );
    const listening$: Observable<unknown> = work.pipe(filter((message) => message.type === "listening"));
    this.subscription.add(work.subscribe({ error: onListenError }));
    this.subscription.add(
      channel$(sql, "pgconductor_cancel", onListenError).subscribe((message) => {
        if (message.type !== "notification") return;
        const [orchestratorId, executionId] = message.payload.split("|");
        if (orchestratorId === this.id) this.abortExecution(executionId);
      }),
    );
    const pauseChannel = channel$(sql, "pgconductor_pause", onListenError);
    this.subscription.add(
      pauseChannel.subscribe((message) => {
        // After a (re)connect, notifications sent meanwhile are lost: read the table again.
        if (message.type === "listening") void this.reloadPauses();
        else this.pauses.applyNotification(message.payload);
      }),
    );
    for (const worker of this.workers) worker.start({ work$, listening$ });
    const serviceContext = {
      sql,
      logger,
      orchestratorId: this.id,
      tasks,
      channel: (name: string) => channel$(sql, name, onListenError),
      requestStop: (reason: string) => {
        logger.warn(`stopping: ${reason}`, { orchestrator: this.id });
        void this.stop();
      },
    };
    for (const service of this.services) await service.start(serviceContext);

    this.heartbeatTimer = setInterval(() => void this.beat(), this.heartbeatIntervalMs);
    this.heartbeatTimer.unref?.();
    if (this.handleSignals) {
      process.once("SIGTERM", this.onSignal);
      process.once("SIGINT", this.onSignal);
    }
    this.running = true;
    logger.debug("orchestrator started", { orchestrator: this.id, queues: this.workers.map((w) => w.queue).join(",") });
  }

  /** Runs retention and cleanup now (also when not started), unless another orchestrator is running them. */
  runMaintenance(): Promise<MaintenanceReport | null> {
    return runMaintenance(this.conductor.sql, { leaseMs: this.leaseMs });
  }

  private async beat(): Promise<void> {
    const { sql, logger } = this.conductor;
    try {
      const { stop, cancelledIds } = await heartbeat(sql, this.id);
      cancelledIds.forEach((id) => this.abortExecution(id));
      await this.reloadPauses(); // in case a pause notification was lost
      const recovered = await recoverExpired(sql, this.leaseMs);
      if (recovered > 0) logger.warn("returned executions of dead orchestrators to their queues", { count: recovered });
      if (stop && !this.stopping) {
        logger.warn("asked to stop (or lease lost); stopping gracefully", { orchestrator: this.id });
        void this.stop();
      }
    } catch (error) {
      logger.warn("heartbeat failed", { orchestrator: this.id, error });
    }
  }

  private async reloadPauses(): Promise<void> {
    try {
      this.pauses.replace(await listPauses(this.conductor.sql));
    } catch (error) {
      this.conductor.logger.warn("reading paused queues and tasks failed", { orchestrator: this.id, error });
    }
  }

  private abortExecution(executionId: string): void {
    for (const worker of this.workers) worker.abort(executionId, "cancelled");
  }

  private async doStop(): Promise<void> {
    await this.starting?.catch(() => {});
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    process.off("SIGTERM", this.onSignal);
    process.off("SIGINT", this.onSignal);
    try {
      for (const service of [...this.services].reverse()) {
        await Promise.resolve(service.stop()).catch((error) => this.conductor.logger.error(`stopping ${service.name} failed`, { error }));
      }
      await Promise.all(this.workers.map((worker) => worker.stop()));
      this.subscription.unsubscribe();
      if (this.starting) await unregisterOrchestrator(this.conductor.sql, this.id);
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
