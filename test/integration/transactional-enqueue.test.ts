import { z } from "zod";
import { Conductor, EventSchemas, Orchestrator, TaskSchemas, defineEvent, defineTask } from "pgconductor-js";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { deferred, eventually, hour, statusOf, trackOrchestrators } from "../support/helpers";
import { silentLogger } from "../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "ship-order", payload: z.object({ orderId: z.number() }) }),
  defineTask({ name: "thank-customer" }),
]);
const events = EventSchemas.fromSchema([defineEvent({ name: "order.placed", payload: z.object({ orderId: z.number() }) })]);

let db: TestDatabase;
const track = trackOrchestrators();
beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`create table orders (id serial primary key, item text not null)`;
});
afterAll(async () => {
  await db.drop();
});

const conductor = () => Conductor.create({ sql: db.sql, tasks, events, context: {}, logger: silentLogger });
class Rollback extends Error {}

const executionCount = async () => (await db.sql`select count(*)::int as n from pgconductor.executions`)[0].n;

test("invoke and emit inside a rolled-back transaction leave no execution and no event", async () => {
  const app = conductor();
  app.createTask({ name: "thank-customer" }, { event: "order.placed" }, async () => {});
  await app.ensureInstalled();
  const before = await executionCount();
  let ids: string[] = [];
  let eventId = "";
  await expect(
    db.sql.begin(async (tx) => {
      const [order] = await tx`insert into orders (item) values ('teapot') returning id`;
      ids.push(await app.invoke({ name: "ship-order" }, { orderId: order.id }, { sql: tx }));
      ids = ids.concat(await app.invoke({ name: "ship-order" }, [{ payload: { orderId: order.id } }, { payload: { orderId: -1 } }], { sql: tx }));
      ids.push(await app.invoke({ name: "ship-order" }, { orderId: order.id }, { sql: tx, throttle: { seconds: 60 } }));
      eventId = await app.emit("order.placed", { orderId: order.id }, { sql: tx });
      // Not visible outside the transaction before it commits.
      expect(await db.sql`select 1 from pgconductor.executions where id = any(${ids})`).toHaveLength(0);
      throw new Rollback("the business write failed");
    }),
  ).rejects.toThrow(Rollback);
  expect(ids).toHaveLength(4);
  expect(await db.sql`select 1 from orders`).toHaveLength(0);
  expect(await db.sql`select 1 from pgconductor.executions where id = any(${ids})`).toHaveLength(0);
  expect(await db.sql`select 1 from pgconductor.events where id = ${eventId}`).toHaveLength(0);
  expect(await executionCount()).toBe(before);
});

test("invoke and emit inside a committed transaction run, woken by the NOTIFY sent at commit", async () => {
  const app = conductor();
  const shipped = deferred<number>();
  const thanked = deferred<number>();
  const ship = app.createTask({ name: "ship-order" }, { invocable: true }, async (event) => shipped.resolve(event.payload.orderId));
  const thank = app.createTask({ name: "thank-customer" }, { event: "order.placed" }, async (event) => thanked.resolve(event.payload.orderId));
  // An hour-long sweep: only the notification can start the work promptly.
  const orchestrator = track(Orchestrator.create({ conductor: app, tasks: [ship, thank], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();

  const { id, orderId } = await db.sql.begin(async (tx) => {
    const [order] = await tx`insert into orders (item) values ('kettle') returning id`;
    const executionId = await app.invoke({ name: "ship-order" }, { orderId: order.id }, { sql: tx });
    await app.emit("order.placed", { orderId: order.id }, { sql: tx });
    return { id: executionId, orderId: order.id as number };
  });
  await expect(shipped.promise).resolves.toBe(orderId);
  await expect(thanked.promise).resolves.toBe(orderId);
  await eventually(async () => (await statusOf(db.sql, id)) === "completed", { what: "ship-order to complete" });
});
