/**
 * Reports pgconductor.queue.depth for the queues this orchestrator works on: the gauge's callback
 * reads the counts from the database when the application's metric reader collects (one statement
 * per collection, none in between), so it is exact across every process writing to the queue.
 * Nothing is registered when no MeterProvider is registered at start.
 */
import { readQueueDepths } from "../../db/queue-depth";
import type { OrchestratorService, ServiceContext } from "../service";
import { observeQueueDepth } from "./attempt";

export class QueueDepthService implements OrchestratorService {
  readonly name = "queue-depth gauge";
  private unregister: () => void = () => {};

  start(context: ServiceContext): void {
    const queues = [...new Set(context.tasks.map((task) => task.queue))];
    if (queues.length === 0) return;
    this.unregister = observeQueueDepth(async () => {
      try {
        return await readQueueDepths(context.sql, queues);
      } catch (error) {
        context.logger.warn("reading queue depths for metrics failed", { orchestrator: context.orchestratorId, error });
        return [];
      }
    });
  }

  stop(): void {
    this.unregister();
    this.unregister = () => {};
  }
}
