/**
 * Aborts ctx.signal of a running execution as soon as it is cancelled: pgconductor.cancel sends
 * `orchestratorId|executionId` on `pgconductor_cancel`. A lost notification is caught by the
 * heartbeat, which returns the cancelled executions this orchestrator still runs.
 */
import type { Subscription } from "rxjs";
import { CANCEL_CHANNEL, parseCancelNotification } from "../model/channels";
import type { OrchestratorService, ServiceContext } from "./service";

export class CancelListener implements OrchestratorService {
  readonly name = "cancel-listener";
  private subscription: Subscription | null = null;

  constructor(private readonly onCancelled: (executionId: string) => void) {}

  start(context: ServiceContext): void {
    this.subscription = context.channel(CANCEL_CHANNEL).subscribe((message) => {
      if (message.type !== "notification") return;
      const cancel = parseCancelNotification(message.payload);
      if (cancel?.orchestratorId === context.orchestratorId) this.onCancelled(cancel.executionId);
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }
}
