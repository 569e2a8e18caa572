import { Subject } from "rxjs";
import { StatsGuardService, STATS_MIN_UNFINISHED } from "../../../src/runtime/stats-guard";
import type { StatsRefresh } from "../../../src/db/maintenance";
import type { ServiceContext } from "../../../src/runtime/service";

function context(logged: { level: string; message: string }[]): ServiceContext {
  const log = (level: string) => (message: string) => void logged.push({ level, message });
  return {
    sql: {} as never,
    logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    orchestratorId: "o",
    tasks: [],
    channel: () => new Subject(),
    requestStop: () => {},
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test("each tick asks once; an ANALYZE is logged, a table with true figures is not", async () => {
  const ticks$ = new Subject<void>();
  const answers: StatsRefresh[] = [
    { estimate: 0, unfinished: 2000, analyzed: false },
    { estimate: 5000, unfinished: 2000, analyzed: true },
  ];
  const asked: number[] = [];
  const guard = new StatsGuardService({ ticks$, refresh: async (_sql, min) => (asked.push(min), answers.shift()!) });
  const logged: { level: string; message: string }[] = [];
  guard.start(context(logged));
  ticks$.next();
  await flush();
  expect(logged).toEqual([]);
  ticks$.next();
  await flush();
  expect(asked).toEqual([STATS_MIN_UNFINISHED, STATS_MIN_UNFINISHED]);
  expect(logged).toEqual([{ level: "info", message: expect.stringContaining("stale: analyzed") }]);
  await guard.stop();
});

test("a failed check is a warning and the next tick asks again", async () => {
  const ticks$ = new Subject<void>();
  let calls = 0;
  const guard = new StatsGuardService({
    ticks$,
    refresh: async () => {
      calls += 1;
      if (calls === 1) throw new Error("connection lost");
      return { estimate: 10, unfinished: 0, analyzed: false };
    },
  });
  const logged: { level: string; message: string }[] = [];
  guard.start(context(logged));
  ticks$.next();
  await flush();
  ticks$.next();
  await flush();
  expect(calls).toBe(2);
  expect(logged.map((entry) => entry.level)).toEqual(["warn"]);
  await guard.stop();
});
