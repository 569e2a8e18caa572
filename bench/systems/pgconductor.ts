/** pgconductor-js itself: a Conductor with one invocable task and an Orchestrator with one worker. */
import { Conductor, Orchestrator, TaskSchemas, type DefineTask } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";
import type { BenchJob, JobHandler, QueueSystem, SystemFactory } from "./system";

type BenchTasks = [DefineTask<{ name: "bench"; payload: BenchJob }>];

export const CONCURRENCY = 10;

function makeConductor(databaseUrl: string) {
  return Conductor.create({ connectionString: databaseUrl, tasks: TaskSchemas.fromTypes<BenchTasks>(), logger: silentLogger });
}

class PgConductorSystem implements QueueSystem {
  private readonly conductor: ReturnType<typeof makeConductor>;
  private orchestrator: Orchestrator | null = null;

  constructor(
    databaseUrl: string,
    private readonly localDispatch: boolean,
  ) {
    this.conductor = makeConductor(databaseUrl);
  }

  async start(handler: JobHandler): Promise<void> {
    const task = this.conductor.createTask({ name: "bench" }, { invocable: true }, async (event, ctx) => {
      await handler(event.payload, ctx);
    });
    this.orchestrator = Orchestrator.create({
      conductor: this.conductor,
      tasks: [task],
      defaultWorker: { concurrency: CONCURRENCY },
      handleSignals: false,
      localDispatch: this.localDispatch,
    });
    await this.orchestrator.start();
  }

  async enqueueBatch(jobs: readonly BenchJob[]): Promise<void> {
    await this.conductor.invoke({ name: "bench" }, jobs.map((payload) => ({ payload })));
  }

  async enqueueOne(job: BenchJob): Promise<void> {
    await this.conductor.invoke({ name: "bench" }, job);
  }

  async enqueueAt(job: BenchJob, runAt: Date): Promise<void> {
    await this.conductor.invoke({ name: "bench" }, job, { run_at: runAt });
  }

  async unfinished(): Promise<number> {
    const [row] = await this.conductor.sql<{ n: number }[]>`
      select count(*)::int as n from pgconductor.executions where status in ('pending', 'running')`;
    return row.n;
  }

  async stop(): Promise<void> {
    await this.orchestrator?.stop();
    await this.conductor.close();
  }
}

export const pgconductor: SystemFactory = {
  key: "pgconductor",
  label: `pgconductor-js (concurrency ${CONCURRENCY})`,
  settings: `one worker, concurrency ${CONCURRENCY}, other worker settings default (LISTEN/NOTIFY, safety sweep every 10 s)`,
  unavailable: () => null,
  create: (databaseUrl) => new PgConductorSystem(databaseUrl, false),
};

/** The same with the local fast path on: only where single invokes meet an idle worker in-process. */
export const pgconductorLocal: SystemFactory = {
  key: "pgconductor-local",
  label: `pgconductor-js localDispatch (concurrency ${CONCURRENCY})`,
  settings:
    `as pgconductor-js, plus Orchestrator option localDispatch: true (the invoking process runs the worker: ` +
    `a single invoke meeting an idle worker is written already claimed and handed to it, no NOTIFY and no claim)`,
  onlyWorkloads: ["latency"],
  unavailable: () => null,
  create: (databaseUrl) => new PgConductorSystem(databaseUrl, true),
};
