/**
 * Listens for stop requests (a newer orchestrator about to apply a breaking migration marks the
 * older ones `stop_requested` and sends NOTIFY). The heartbeat would notice too; this makes it prompt.
 */
import type { Subscription } from "rxjs";
import type { OrchestratorService, ServiceContext } from "./service";
import { CONTROL_CHANNEL, isStopRequest } from "../model/channels";
import { isStopRequested } from "../db/orchestrators";

export class StopRequestListener implements OrchestratorService {
  readonly name = "stop-requests";
  private subscription: Subscription | null = null;

  start(context: ServiceContext): void {
    this.subscription = context.channel(CONTROL_CHANNEL).subscribe((message) => {
      if (message.type !== "notification" || !isStopRequest(message.payload)) return;
      isStopRequested(context.sql, context.orchestratorId)
        .then((requested) => {
          if (requested) context.requestStop(`a newer orchestrator applies a breaking migration (${message.payload})`);
        })
        .catch((error) => context.logger.warn("checking a stop request failed", { error }));
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }
}
