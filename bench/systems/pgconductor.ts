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
    /** undefined: the default (on). */
    private readonly localDispatch?: boolean,
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
  settings: `one worker, concurrency ${CONCURRENCY}, other settings default (LISTEN/NOTIFY, safety sweep every 10 s, localDispatch on: single invokes meeting the idle worker of this process skip the NOTIFY and the claim)`,
  unavailable: () => null,
  create: (databaseUrl) => new PgConductorSystem(databaseUrl),
};

/** The same with the local fast path off: only where single invokes would meet an idle worker in-process. */
export const pgconductorNoLocal: SystemFactory = {
  key: "pgconductor-no-local",
  label: `pgconductor-js localDispatch false (concurrency ${CONCURRENCY})`,
  settings: `as pgconductor-js, with Orchestrator option localDispatch: false (every invoke is notified and claimed)`,
  onlyWorkloads: ["latency"],
  unavailable: () => null,
  create: (databaseUrl) => new PgConductorSystem(databaseUrl, false),
};
