import { firstValueFrom } from "rxjs";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { failureAlerts } from "../../../examples/failure-alerts";
import { silentLogger } from "../../../src/model/logger";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, trackOrchestrators } from "../../support/helpers";

const db = useTestDatabase();
const track = trackOrchestrators();

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "charge", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "fine", payload: z.object({}) }),
]);

test("examples/failure-alerts: failures of a task over the threshold raise one alert naming it", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const charge = conductor.createTask({ name: "charge", maxAttempts: 1 }, { invocable: true }, async (event) => {
    throw new Error(`card declined ${event.payload.n}`);
  });
  const fine = conductor.createTask({ name: "fine" }, { invocable: true }, async () => "ok");
  // Seconds-long window re-counted often, so failures moments apart always share one.
  const alert = firstValueFrom(failureAlerts(conductor.observe(), { windowMs: 1_000, everyMs: 100, threshold: 3 }));
  await eventually(async () => (await db.sql`select 1 from pgconductor.observers`).length > 0, { what: "the observer to register" });
  await track(Orchestrator.create({ conductor, tasks: [charge, fine], defaultWorker: { pollIntervalMs: hour }, handleSignals: false })).start();
  await conductor.invoke({ name: "fine" }, [{ payload: {} }, { payload: {} }, { payload: {} }]);
  await conductor.invoke({ name: "charge" }, [{ payload: { n: 1 } }, { payload: { n: 2 } }, { payload: { n: 3 } }]);
  const raised = await alert;
  expect(raised).toMatchObject({ task: "charge", failures: 3, windowMs: 1_000 });
  expect(raised.lastError).toMatch(/^card declined [123]$/);
  await conductor.close();
});
