import { Subject } from "rxjs";
import { RescuerService, RESCUER_DEFAULTS } from "../../../src/runtime/rescuer";
import { fakeCall, fakeContext } from "./fakes";

test("defaults: look every heartbeat interval, a 30 s lease, at most 10 statements per tick", () => {
  expect(RESCUER_DEFAULTS).toEqual({ intervalMs: 5_000, leaseMs: 30_000, maxRounds: 10 });
});

test("a tick recovers with the configured lease until a round finds nothing, and logs the total", async () => {
  const recover = fakeCall<[unknown, number], number>([4, 2, 0]);
  const { context, logs } = fakeContext();
  const rescuer = new RescuerService({ leaseMs: 1234, recover: recover.fn });
  expect(await rescuer.rescue(context)).toBe(6);
  expect(recover.calls.map(([, lease]) => lease)).toEqual([1234, 1234, 1234]);
  expect(logs).toEqual([{ level: "warn", message: "returned executions of dead orchestrators to their queues", fields: { count: 6 } }]);
});

test("the loop is bounded by maxRounds", async () => {
  const recover = fakeCall<[unknown, number], number>([5]);
  const { context } = fakeContext();
  expect(await new RescuerService({ maxRounds: 3, recover: recover.fn }).rescue(context)).toBe(15);
  expect(recover.calls).toHaveLength(3);
});

test("nothing recovered logs nothing", async () => {
  const recover = fakeCall<[unknown, number], number>([0]);
  const { context, logs } = fakeContext();
  expect(await new RescuerService({ recover: recover.fn }).rescue(context)).toBe(0);
  expect(logs).toEqual([]);
});

test("ticks run it as a service; a failure is logged and does not end it", async () => {
  const ticks$ = new Subject<void>();
  const recover = fakeCall<[unknown, number], number>([new Error("db down"), 0]);
  const { context, logs } = fakeContext();
  const rescuer = new RescuerService({ ticks$, recover: recover.fn });
  rescuer.start(context);
  ticks$.next();
  await recover.called(1);
  await rescuer.stop().catch(() => {});
  expect(logs.map((l) => l.message)).toEqual(["recovering executions of dead orchestrators failed"]);
});
