/**
 * A claim commits without waiting for the WAL flush (synchronous_commit off for its own transaction
 * only): the setting applies inside the claim's transaction and does not leak into the session.
 */
import postgres from "postgres";
import { Conductor, TaskSchemas, defineTask } from "pgconductor-js";
import { z } from "zod";
import { claimExecutions } from "../../src/db/claim";
import { silentLogger } from "../../src/model/logger";
import { useTestDatabase } from "../support/database";

const db = useTestDatabase();
const tasks = TaskSchemas.fromSchema([defineTask({ name: "job", payload: z.object({}) })]);

test("synchronous_commit is off inside the claim's transaction and unchanged in the session after it", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  await conductor.ensureInstalled();
  await conductor.invoke({ name: "job" }, [{ payload: {} }, { payload: {} }]);
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await sql`set synchronous_commit to 'local'`;
    const orchestrator = "00000000-0000-4000-8000-000000000001";
    const inside = await sql.begin(async (tx) => {
      const claimed = await claimExecutions(tx as never, orchestrator, "default", ["job"], 1);
      const [{ synchronous_commit }] = await tx`show synchronous_commit`;
      return { claimed: claimed.length, setting: synchronous_commit };
    });
    expect(inside).toEqual({ claimed: 1, setting: "off" });
    expect(await claimExecutions(sql, orchestrator, "default", ["job"], 1)).toHaveLength(1);
    const [{ synchronous_commit }] = await sql`show synchronous_commit`;
    expect(synchronous_commit).toBe("local");
  } finally {
    await sql.end({ timeout: 1 });
  }
});
