/**
 * A transition that checks for observers just before an observer's registration commits sends no
 * event; if it commits after the observer's catch-up read, a result() waiting for it used to wait
 * forever (seen as an invokeAndWait timing out although the execution had completed). The hub now
 * announces `ready` again once every transaction in flight at registration has ended.
 */
import postgres from "postgres";
import { firstValueFrom, filter, take, toArray } from "rxjs";
import { Conductor, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";
import { migrate } from "../../src/db/migrator";
import { ObserverHub, type HubMessage } from "../../src/streams/observer-hub";
import { useTestDatabase } from "../support/database";
import { eventually } from "../support/helpers";

const db = useTestDatabase();

test("a completion that missed the registration is found once its transaction ends", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks: TaskSchemas.fromSchema([defineTask({ name: "t" })]), context: {}, logger: silentLogger });
  const id = await conductor.invoke({ name: "t" }, {});
  const writer = db.pool(1);
  const hub = new ObserverHub({ sql: db.sql, connectListener: () => postgres(db.url, { max: 1, onnotice: () => {} }), ensureInstalled: async () => void (await migrate(db.sql)), onError: () => {} });
  let commit!: () => void;
  const committed = new Promise<void>((resolve) => (commit = resolve));
  // The transition: written and checked for observers (none yet, so no event), not committed.
  const transition = writer.begin(async (tx) => {
    await tx`update pgconductor.executions set status = 'completed', result = '{"ok":true}', finished_at = now() where id = ${id}`;
    await tx`select pgconductor.announce('completed', array[${id}]::uuid[])`;
    await committed;
  });
  await eventually(async () => (await db.sql`select 1 from pg_stat_activity where state = 'idle in transaction' and datname = current_database()`).length > 0, { what: "the transition in flight" });

  const seen: string[] = [];
  const readies = hub.messages().pipe(filter((m: HubMessage) => m.type === "ready"));
  const first = firstValueFrom(readies);
  const twice = firstValueFrom(readies.pipe(take(2), toArray()));
  await first; // the catch-up read happens here, before the transition commits
  commit();
  await transition;
  seen.push("committed");
  await twice;
  seen.push("ready again");
  expect(seen).toEqual(["committed", "ready again"]);
  await hub.shutdown();
  await conductor.close();
});

test("result() of an execution completed by a transaction that missed the registration resolves", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks: TaskSchemas.fromSchema([defineTask({ name: "t" })]), context: {}, logger: silentLogger });
  const id = await conductor.invoke({ name: "t" }, {});
  const writer = db.pool(1);
  let commit!: () => void;
  const committed = new Promise<void>((resolve) => (commit = resolve));
  const transition = writer.begin(async (tx) => {
    await tx`update pgconductor.executions set status = 'completed', result = '{"ok":true}', finished_at = now() where id = ${id}`;
    await tx`select pgconductor.announce('completed', array[${id}]::uuid[])`;
    await committed;
  });
  await eventually(async () => (await db.sql`select 1 from pg_stat_activity where state = 'idle in transaction' and datname = current_database()`).length > 0, { what: "the transition in flight" });
  const result = conductor.result(id, { timeoutMs: 20_000 });
  const hub = (conductor as unknown as { observability: { hub: ObserverHub } }).observability.hub;
  await firstValueFrom(hub.messages().pipe(filter((m: HubMessage) => m.type === "ready")));
  commit();
  await transition;
  await expect(result).resolves.toEqual({ ok: true });
  await conductor.close();
});
