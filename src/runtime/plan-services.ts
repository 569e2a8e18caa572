import type { OrchestratorService } from "./service";
import { MaintenanceService } from "./maintenance";
import { StopRequestListener } from "./stop-requests";
import { CronService } from "./cron-service";
import { EventSubscriptionsService } from "./event-subscriptions-service";
import { TableChangesService } from "./table-changes/table-changes-service";
import { QueueDepthService } from "./telemetry/queue-depth-service";
import { StatsGuardService } from "./stats-guard";

/** The background duties an orchestrator runs. Add a duty here, in its own module. */
export function planServices(): OrchestratorService[] {
  return [new MaintenanceService(), new StopRequestListener(), new EventSubscriptionsService(), new CronService(), new TableChangesService(), new QueueDepthService(), new StatsGuardService()];
}
