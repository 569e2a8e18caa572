import { Conductor, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";
import { StepWriter } from "../../src/runtime/step-writer";
import { useTestDatabase } from "../support/database";

const db = useTestDatabase();

test("steps saved together are all stored; a step of a deleted execution does not fail the others", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks: TaskSchemas.fromSchema([defineTask({ name: "t" })]), logger: silentLogger });
  const ids = await conductor.invoke({ name: "t" }, [{ payload: 1 }, { payload: 2 }, { payload: 3 }]);
  await db.sql`delete from pgconductor.executions where id = ${ids[1]}`;
  const writer = new StepWriter(db.sql);
  await Promise.all([
    writer.save(ids[0], "step:a", { value: 1 }),
    writer.save(ids[0], "step:b", { value: undefined }),
    writer.save(ids[1], "step:a", { value: "gone" }),
    writer.save(ids[2], "step:a", { value: [1, 2] }),
    writer.save(ids[2], "step:a", { value: "second write of a name keeps the first" }),
  ]);
  const rows = await db.sql<{ execution_id: string; name: string; result: unknown }[]>`
    select execution_id, name, result from pgconductor.steps order by execution_id, name`;
  const byKey = Object.fromEntries(rows.map((r) => [`${ids.indexOf(r.execution_id)}:${r.name}`, r.result]));
  expect(byKey).toEqual({ "0:step:a": { value: 1 }, "0:step:b": {}, "2:step:a": { value: [1, 2] } });
});
