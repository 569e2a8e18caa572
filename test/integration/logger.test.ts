import { Conductor, Orchestrator, TaskSchemas, defineTask, type Logger } from "pgconductor-js";
import { createConsoleLogger } from "../../src/model/logger";
import { useTestDatabase } from "../support/database";
import { trackOrchestrators } from "../support/helpers";

const db = useTestDatabase();
const track = trackOrchestrators();

test("a custom logger receives ctx.logger lines tagged with task, execution id and queue", async () => {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const record = (level: string): Logger[keyof Logger] => (message, fields) => lines.push({ level, message, fields });
  const logger: Logger = { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") };
  const conductor = Conductor.create({ sql: db.sql, tasks: TaskSchemas.fromSchema([defineTask({ name: "say" })]), logger });
  const say = conductor.createTask({ name: "say", queue: "talk" }, { invocable: true }, async (_event, ctx) => {
    ctx.logger.info("hello", { extra: 1 });
  });
  const id = await conductor.invoke({ name: "say" }, undefined);
  await track(Orchestrator.create({ conductor, tasks: [say], handleSignals: false })).drain();
  expect(lines).toContainEqual({ level: "info", message: "hello", fields: { task: "say", execution: id, queue: "talk", extra: 1 } });
});

test("the console logger writes time, level, message and tags on one line, filtered by level", () => {
  const written: string[] = [];
  const spy = jest.spyOn(console, "log").mockImplementation((line: string) => void written.push(line));
  try {
    const logger = createConsoleLogger("info");
    logger.debug("hidden");
    logger.info("claimed work", { task: "say", queue: "talk", note: "two words" });
  } finally {
    spy.mockRestore();
  }
  expect(written).toHaveLength(1);
  expect(written[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  claimed work task=say queue=talk note="two words"$/);
});
