import { z } from "zod";
import {
  Conductor,
  ConfigurationError,
  EventSchemas,
  Orchestrator,
  TaskSchemas,
  UnknownEventError,
  ValidationError,
  defineEvent,
  defineTask,
} from "pgconductor-js";
import { useTestDatabase } from "../support/database";
import { hour, trackOrchestrators } from "../support/helpers";
import { silentLogger } from "../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "welcome" }),
  defineTask({ name: "audit" }),
  defineTask({ name: "local-only" }),
  defineTask({ name: "moved-on" }),
]);
const events = EventSchemas.fromSchema([
  defineEvent({ name: "user.signup", payload: z.object({ id: z.number(), email: z.string().email(), password: z.string() }) }),
  defineEvent({ name: "order.paid", payload: z.object({ orderId: z.string() }) }),
]);

const db = useTestDatabase();
const track = trackOrchestrators();

/** A Conductor on a pool of its own, like another process. */
function newConductor() {
  const sql = db.pool(3);
  return Conductor.create({ sql, tasks, events, context: {}, logger: silentLogger });
}

const counts = async () => {
  const [row] = await db.sql`select (select count(*)::int from pgconductor.events) as events, (select count(*)::int from pgconductor.executions) as executions`;
  return row;
};

test("emit from a process without an orchestrator: one execution per subscribed task, `fields` keeps only those keys", async () => {
  const worker = newConductor();
  const received = new Map<string, { name: string; payload: unknown }>();
  const welcome = worker.createTask({ name: "welcome" }, { event: "user.signup", fields: "id, email" }, async (event) => {
    const email: string = event.payload.email;
    const id: number = event.payload.id;
    // @ts-expect-error -- `fields` left the password out of the handler's payload type
    void event.payload.password;
    received.set("welcome", { name: event.name, payload: { id, email } });
  });
  const audit = worker.createTask({ name: "audit" }, [{ invocable: true }, { event: "user.signup" }], async (event) => {
    if (event.name === "user.signup") {
      const password: string = event.payload.password;
      received.set("audit", { name: event.name, payload: { ...event.payload, password } });
    }
  });
  // Start and stop: the subscriptions stay in the database for emitters anywhere.
  const first = track(Orchestrator.create({ conductor: worker, tasks: [welcome, audit], handleSignals: false }));
  await first.start();
  await first.stop();

  const emitter = newConductor(); // no tasks, no orchestrator
  const eventId = await emitter.emit("user.signup", { id: 7, email: "ada@example.com", password: "secret" });
  expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
  const [stored] = await db.sql`select name, payload from pgconductor.events where id = ${eventId}`;
  expect(stored).toEqual({ name: "user.signup", payload: { id: 7, email: "ada@example.com", password: "secret" } });

  const pending = await db.sql`select task_key, event_name, payload from pgconductor.executions where status = 'pending' order by task_key`;
  expect(pending).toEqual([
    { task_key: "audit", event_name: "user.signup", payload: { id: 7, email: "ada@example.com", password: "secret" } },
    { task_key: "welcome", event_name: "user.signup", payload: { id: 7, email: "ada@example.com" } },
  ]);

  const second = track(Orchestrator.create({ conductor: worker, tasks: [welcome, audit], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await second.drain();
  expect(received.get("welcome")).toEqual({ name: "user.signup", payload: { id: 7, email: "ada@example.com" } });
  expect(received.get("audit")).toEqual({ name: "user.signup", payload: { id: 7, email: "ada@example.com", password: "secret" } });
});

test("an event nobody subscribes to is still recorded, and creates no execution", async () => {
  const emitter = newConductor();
  const before = await counts();
  const id = await emitter.emit("order.paid", { orderId: "o-1" });
  const after = await counts();
  expect(after).toEqual({ events: before.events + 1, executions: before.executions });
  expect(await db.sql`select name from pgconductor.events where id = ${id}`).toEqual([{ name: "order.paid" }]);
});

test("a payload failing the event's schema is rejected naming the event and the path; nothing is written", async () => {
  const emitter = newConductor();
  const before = await counts();
  await expect(emitter.emit("user.signup", { id: "7", email: "ada@example.com", password: "x" } as never)).rejects.toThrow(ValidationError);
  await expect(emitter.emit("user.signup", { id: 7, email: "not-an-email", password: "x" })).rejects.toThrow(/Event "user.signup": invalid payload: email/);
  await expect(emitter.emit("user.signup", { id: "7", email: "ada@example.com", password: "x" } as never)).rejects.toThrow(/Event "user.signup".*id/);
  // @ts-expect-error -- unknown event names are a compile error too
  await expect(emitter.emit("user.deleted", {})).rejects.toThrow(UnknownEventError);
  await expect(emitter.emit("user.deleted" as never, {} as never)).rejects.toThrow(/Unknown event "user.deleted".*known: user.signup, order.paid/);
  expect(await counts()).toEqual(before);
});

test("event triggers are checked at createTask: known event, well-formed fields, one trigger per event", () => {
  const conductor = newConductor();
  const create = (triggers: unknown) => () => conductor.createTask({ name: "welcome" }, triggers as never, async () => {});
  expect(create({ event: "user.deleted" })).toThrow(/createTask "welcome": event trigger "user.deleted" is not in the Conductor's EventSchemas/);
  expect(create({ event: "user.signup", fields: "id,,email" })).toThrow(/createTask "welcome", trigger 1 \(event "user.signup"\): fields "id,,email" has an empty key/);
  expect(create({ event: "user.signup", fields: 3 })).toThrow(ConfigurationError);
  expect(create({ event: "" })).toThrow(/trigger 1: `event` must be the event's name/);
  expect(create([{ event: "user.signup" }, { event: "user.signup", fields: "id" }])).toThrow(/event "user.signup" appears in more than one trigger/);
});

test("tasks created in the emitting process count as subscribers before any orchestrator has started", async () => {
  const conductor = newConductor();
  conductor.createTask({ name: "local-only" }, { event: "order.paid", fields: "orderId" }, async () => {});
  await conductor.emit("order.paid", { orderId: "o-2" });
  const rows = await db.sql`select event_name, payload from pgconductor.executions where task_key = 'local-only'`;
  expect(rows).toEqual([{ event_name: "order.paid", payload: { orderId: "o-2" } }]);
});

test("an orchestrator whose task no longer has an event trigger removes that subscription", async () => {
  const before = newConductor();
  const subscribed = before.createTask({ name: "moved-on" }, { event: "order.paid" }, async () => {});
  const first = track(Orchestrator.create({ conductor: before, tasks: [subscribed], handleSignals: false }));
  await first.start();
  await first.stop();
  expect(await db.sql`select event_name from pgconductor.event_subscriptions where task_key = 'moved-on'`).toEqual([{ event_name: "order.paid" }]);

  const after = newConductor();
  const unsubscribed = after.createTask({ name: "moved-on" }, { invocable: true }, async () => {});
  const second = track(Orchestrator.create({ conductor: after, tasks: [unsubscribed], handleSignals: false }));
  await second.start();
  await second.stop();
  expect(await db.sql`select event_name from pgconductor.event_subscriptions where task_key = 'moved-on'`).toEqual([]);
  await newConductor().emit("order.paid", { orderId: "o-3" });
  expect(await db.sql`select 1 from pgconductor.executions where task_key = 'moved-on'`).toHaveLength(0);
});
