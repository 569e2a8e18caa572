import { eventSubscriptionsOf, parseFields, staticSchedulesOf } from "../../src/model/trigger-specs";
import type { Task, Trigger } from "../../src/model/task";

const task = (name: string, queue: string, triggers: Trigger[]): Task => ({
  name,
  queue,
  maxAttempts: 3,
  options: { name, queue },
  triggers,
  handler: () => undefined,
});

test("parseFields trims keys and rejects empty ones or non-strings, naming the place", () => {
  expect(parseFields(" id, email ,name", "here")).toEqual(["id", "email", "name"]);
  expect(() => parseFields("id,,email", "task x")).toThrow(/task x: fields "id,,email" has an empty key/);
  expect(() => parseFields(["id"], "task x")).toThrow(/task x: fields must be a comma list/);
});

test("static schedules and subscriptions come from the tasks' triggers, with their queue", () => {
  const tasks = [
    task("report", "reports", [{ invocable: true }, { cron: "0 9 * * *", name: "morning" }, { cron: "0 17 * * *", name: "evening", tz: "Europe/Berlin" }]),
    task("welcome", "default", [{ event: "user.signup", fields: "id,email" }, { event: "user.invited" }]),
  ];
  expect(staticSchedulesOf(tasks)).toEqual([
    { taskKey: "report", queue: "reports", name: "morning", cron: "0 9 * * *", tz: "UTC" },
    { taskKey: "report", queue: "reports", name: "evening", cron: "0 17 * * *", tz: "Europe/Berlin" },
  ]);
  expect(eventSubscriptionsOf(tasks)).toEqual([
    { event: "user.signup", taskKey: "welcome", queue: "default", fields: ["id", "email"] },
    { event: "user.invited", taskKey: "welcome", queue: "default", fields: null },
  ]);
  expect(eventSubscriptionsOf(tasks, "user.invited").map((s) => s.event)).toEqual(["user.invited"]);
});
