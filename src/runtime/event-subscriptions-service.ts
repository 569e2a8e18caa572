/**
 * Writes the `{ event, fields? }` triggers of an orchestrator's tasks to pgconductor.event_subscriptions
 * at start (replacing what those tasks had), so `emit` from any process, even one that runs no
 * orchestrator, reaches them. Subscriptions stay when the orchestrator stops: events emitted while
 * nothing runs wait as pending executions.
 */
import { eventSubscriptionsOf } from "../model/trigger-specs";
import { syncEventSubscriptions } from "../db/events";
import type { OrchestratorService, ServiceContext } from "./service";

export class EventSubscriptionsService implements OrchestratorService {
  readonly name = "event-subscriptions";

  async start(context: ServiceContext): Promise<void> {
    const taskKeys = context.tasks.map((task) => task.name);
    if (taskKeys.length === 0) return;
    await syncEventSubscriptions(context.sql, taskKeys, eventSubscriptionsOf(context.tasks));
  }

  stop(): void {}
}
