/**
 * The engine an Orchestrator runs: its workers, the LISTEN wiring, and its services (cron, events,
 * table changes, maintenance, stop requests, cancel listener, heartbeat, rescuer), started and
 * stopped in order, with the database clock and the health monitor every part reads. It gets only
 * what it needs: no Conductor, no public options.
 */
import { PauseState } from "./pause-state";
import { configureFlow, listPauses } from "../db/flow-control";
import { flowSettingsOf } from "../model/flow-settings";
import { hostname } from "node:os";
import { filter, firstValueFrom, interval, map, merge, race, Subscription, timer, type Observable } from "rxjs";
import type { Sql } from "postgres";
import { hasOutstandingWork } from "../db/claim";
import { registerOrchestrator, unregisterOrchestrator } from "../db/orchestrators";
import { configureTasks, upsertTasks } from "../db/task-settings";
import { parseWorkNotification, PAUSE_CHANNEL, PROBE_CHANNEL, WORK_CHANNEL, type WorkNotification } from "../model/channels";
import { taggedLogger, type Logger } from "../model/logger";
import type { Task } from "../model/task";
import { settingsOf } from "../model/task-settings";
import type { WorkerDefinition } from "../model/worker-config";
import { Listener } from "../streams/listener";
import { CancelListener } from "./cancel-listener";
import { HeartbeatService } from "./heartbeat-service";
import { planServices } from "./plan-services";
import { RescuerService } from "./rescuer";
import type { OrchestratorService, ServiceContext } from "./service";
import { createTaskContext, type ChildInvoker, type Scheduler } from "./task-context";
import { Worker } from "./worker";
import { MeasuredClock, type DatabaseClock } from "./db-clock";
import { HealthMonitor } from "./health-monitor";
import { TableChangesService } from "./table-changes/table-changes-service";
import { preparedStatementsOff } from "./pooler";
import type { LocalDispatch, LocalSlot } from "./local-dispatch";

export interface EngineOptions {
  id: string;
  sql: Sql;
  logger: Logger;
  /** The user's context, spread into every ctx. */
  context: object;
  prepareChild: ChildInvoker["prepareChild"];
  scheduler: Scheduler;
  workers: readonly WorkerDefinition[];
  heartbeatIntervalMs: number;
  leaseMs: number;
  /** stop(): running handlers that have not ended this long after it began are released. */
  stopTimeoutMs: number;
  clock?: () => Date;
  /** A pool on a direct URL for LISTEN, replication and session locks when `sql` is a transaction pooler (pooler.ts). */
  sessionSql?: Sql;
  /** How long a health probe (clock read, self-NOTIFY) may take before it counts as failed. */
  listenProbeTimeoutMs: number;
  /** The sweep interval while push does not deliver. */
  degradedPollIntervalMs: number;
  /** The LISTEN connection's self-ping (defaults in model/defaults.ts). */
  listenerPingIntervalMs?: number;
  listenerPingTimeoutMs?: number;
  /** The engine wants to stop (asked to, or its lease is lost); the owner calls stop(). */
  requestStop(): void;
}

export class Engine implements LocalDispatch {
  readonly workers: Worker[];
  private readonly services: OrchestratorService[];
  private readonly cancelListener: CancelListener;
  private readonly subscription = new Subscription();
  /** Paused queues and tasks, shared by this orchestrator's workers (see pause-state.ts). */
  readonly pauses = new PauseState();
  private started = false;
  private stopRequested = false;
  /** The database's time (offset measured at start and on every health round). */
  readonly dbClock = new MeasuredClock();
  readonly health: HealthMonitor;
  /** The one LISTEN connection every channel of this engine shares. */
  readonly listener: Listener;

  constructor(private readonly options: EngineOptions) {
    const { sql, logger, context } = options;
    this.workers = options.workers.map(
      (definition) =>
        new Worker(definition.queue, definition.tasks, definition.config, {
          sql,
          orchestratorId: options.id,
          logger,
          // Windows are judged by the database's time unless a clock is injected (tests).
          clock: options.clock ?? (() => new Date(this.dbClock.now())),
          pauses: this.pauses,
          makeBatchContext: (task, signal) => ({ ...context, logger: taggedLogger(logger, { task: task.name, queue: task.queue }), signal }),
          makeContext: (task, execution, control) =>
            createTaskContext({
              sql,
              control,
              context,
              logger: taggedLogger(logger, { task: task.name, execution: execution.id, queue: execution.queue }),
              children: { prepareChild: options.prepareChild },
              schedules: options.scheduler,
            }),
        }),
    );
    this.listener = new Listener({
      // A direct URL when `sql` is a transaction pooler (LISTEN needs a session).
      sql: this.listenSql,
      logger,
      tags: { orchestrator: options.id },
      pingIntervalMs: options.listenerPingIntervalMs,
      pingTimeoutMs: options.listenerPingTimeoutMs,
    });
    const abort = (executionId: string) => this.abortExecution(executionId);
    this.cancelListener = new CancelListener(abort);
    this.services = [
      ...planServices(),
      new HeartbeatService({
        intervalMs: options.heartbeatIntervalMs,
        held: () => this.workers.flatMap((worker) => worker.heldIds()),
        graceMs: options.leaseMs,
        onCancelled: abort,
        onStopRequested: () => {
          if (this.stopRequested) return;
          this.stopRequested = true;
          logger.warn("asked to stop (or lease lost); stopping gracefully", { orchestrator: options.id });
          options.requestStop();
        },
      }),
      new RescuerService({ intervalMs: options.heartbeatIntervalMs, leaseMs: options.leaseMs }),
    ];
    const tableChanges = this.services.find((service): service is TableChangesService => service instanceof TableChangesService);
    this.health = new HealthMonitor({
      sql, logger, orchestratorId: options.id, clock: this.dbClock,
      probeChannel: PROBE_CHANNEL, probe$: this.listener.channel(PROBE_CHANNEL), probeTimeoutMs: options.listenProbeTimeoutMs,
      degradedSweepMs: options.degradedPollIntervalMs, usesListenUrl: options.sessionSql !== undefined,
      consumer: () => tableChanges?.health ?? null,
    });
  }

  /** The database's time now (epoch ms): what workers and timers compare database times with. */
  now(): number {
    return this.dbClock.now();
  }

  private get listenSql(): Sql {
    return this.options.sessionSql ?? this.options.sql;
  }

  get tasks(): Task[] {
    return this.workers.flatMap((worker) => worker.tasks);
  }

  /** Registers, writes the tasks, listens, starts the workers, then the services. */
  async start(schemaVersion: number): Promise<void> {
    const { sql, logger, id } = this.options;
    this.started = true;
    await registerOrchestrator(sql, id, hostname(), process.pid, schemaVersion);
    const tasks = this.tasks;
    await upsertTasks(sql, tasks.map((task) => ({ key: task.name, queue: task.queue, maxAttempts: task.maxAttempts })));
    await configureTasks(sql, tasks.map((task) => ({ key: task.name, settings: settingsOf(task) })));
    await configureFlow(sql, tasks.map((task) => ({ key: task.name, flow: flowSettingsOf(task) })));
    this.pauses.replace(await listPauses(sql));

    const listenSql = this.listenSql;
    if (this.options.sessionSql) preparedStatementsOff(sql, logger, "listenConnectionString is given, so the main pool is taken for a transaction pooler");
    const work = this.listener.channel(WORK_CHANNEL);
    const work$ = work.pipe(
      map((message) => (message.type === "notification" ? parseWorkNotification(message.payload) : null)),
      filter((notification): notification is WorkNotification => notification !== null),
    );
    const listening$: Observable<unknown> = work.pipe(filter((message) => message.type === "listening"));
    const context: ServiceContext = {
      sql,
      logger,
      orchestratorId: id,
      tasks,
      channel: (name: string) => this.listener.channel(name),
      clock: this.dbClock,
      sessionSql: listenSql,
      requestStop: (reason: string) => {
        logger.warn(`stopping: ${reason}`, { orchestrator: id });
        this.options.requestStop();
      },
    };
    this.cancelListener.start(context);
    this.subscription.add(
      context.channel(PAUSE_CHANNEL).subscribe((message) => {
        // After a (re)connect, notifications sent meanwhile are lost: read the table again.
        if (message.type === "listening") void this.reloadPauses();
        else this.pauses.applyNotification(message.payload);
      }),
    );
    // In case a pause notification was lost while the connection stayed up.
    this.subscription.add(interval(this.options.heartbeatIntervalMs).subscribe(() => void this.reloadPauses()));
    // The probe channel stays listened, so the health probe's NOTIFY always finds it.
    this.subscription.add(this.listener.channel(PROBE_CHANNEL).subscribe());
    const health = await this.health.start(this.options.heartbeatIntervalMs);
    if (health.push.mode === "sweeping" && !this.options.sessionSql) {
      preparedStatementsOff(sql, logger, "LISTEN does not deliver, so the pool is taken for a transaction pooler");
    }
    const { degradedPollIntervalMs } = this.options;
    const sources = { work$, listening$, clock: this.dbClock as DatabaseClock, pushDegraded$: this.health.pushDegraded$, degradedPollIntervalMs };
    for (const worker of this.workers) worker.start(sources);
    for (const service of this.services) await service.start(context);
  }

  /**
   * The workers stop claiming first (at once, so a handler's next checkpoint is released), then the
   * services other than heartbeat and rescuer stop (newest first) while the workers drain; heartbeat
   * and rescuer go last, so a long drain keeps the lease and no other orchestrator takes over the
   * executions still running here. Then the record.
   */
  async stop(): Promise<void> {
    const { sql, logger, id } = this.options;
    const deadline = Date.now() + this.options.stopTimeoutMs;
    this.stopRequested = true;
    const drained = Promise.all(this.workers.map((worker) => worker.stop(deadline - Date.now())));
    const stopService = (service: OrchestratorService) =>
      Promise.resolve(service.stop()).catch((error) => logger.error(`stopping ${service.name} failed`, { error }));
    const keepsLease = (service: OrchestratorService) => service instanceof HeartbeatService || service instanceof RescuerService;
    for (const service of [...this.services].reverse().filter((s) => !keepsLease(s))) await stopService(service);
    await drained;
    for (const service of [...this.services].reverse().filter(keepsLease)) await stopService(service);
    this.cancelListener.stop();
    await this.health.stop();
    this.subscription.unsubscribe();
    await this.listener.close();
    if (this.started) await unregisterOrchestrator(sql, id);
  }

  /** Resolves once nothing is runnable now and nothing runs (future work does not count), or `stopping()` turns true. */
  async drained(stopping: () => boolean): Promise<void> {
    const queues = this.workers.map((worker) => worker.queue);
    while (!stopping()) {
      // Work of a task outside its time window is not runnable now, so it does not hold drain.
      const taskKeys = this.workers.flatMap((worker) => worker.claimableTaskKeys());
      const idle = () => this.workers.every((worker) => worker.isIdle());
      if (idle() && !(await hasOutstandingWork(this.options.sql, queues, taskKeys)) && idle()) return;
      // Look again when a worker runs dry, or after a while for work other orchestrators hold.
      await firstValueFrom(race(merge(...this.workers.map((worker) => worker.idle)), timer(250)), { defaultValue: undefined });
    }
  }

  private async reloadPauses(): Promise<void> {
    try {
      this.pauses.replace(await listPauses(this.options.sql));
    } catch (error) {
      this.options.logger.warn("reading paused queues and tasks failed", { orchestrator: this.options.id, error });
    }
  }

  /** The local fast path (local-dispatch.ts): a slot on an idle worker of this queue, if any. */
  reserve(queue: string, taskKey: string): LocalSlot | null {
    if (!this.started || this.stopRequested) return null;
    for (const worker of this.workers) {
      if (worker.queue !== queue) continue;
      const slot = worker.reserveLocal(taskKey);
      if (slot) return slot;
    }
    return null;
  }

  private abortExecution(executionId: string): void {
    for (const worker of this.workers) worker.abort(executionId, "cancelled");
  }
}

