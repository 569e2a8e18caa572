import { Subject } from "rxjs";
import { HeartbeatService } from "../../../src/runtime/heartbeat-service";
import { fakeCall, fakeContext } from "./fakes";

type Answer = { stop: boolean; cancelledIds: string[]; released?: number };

function setup(answers: (Answer | Error)[], held?: () => readonly string[]) {
  const ticks$ = new Subject<void>();
  const beat = fakeCall<[unknown, string, readonly string[] | null | undefined, number | undefined], Required<Answer>>(
    answers.map((answer) => (answer instanceof Error ? answer : { released: 0, ...answer })),
  );
  const cancelled: string[] = [];
  let stopRequests = 0;
  const service = new HeartbeatService({ ticks$, beat: beat.fn, held, graceMs: 1_000, onCancelled: (id) => cancelled.push(id), onStopRequested: () => stopRequests++ });
  const fake = fakeContext("orch-1");
  service.start(fake.context);
  return { ticks$, beat, cancelled, stopRequests: () => stopRequests, service, logs: fake.logs };
}

test("each tick renews the lease of this orchestrator and aborts what was cancelled", async () => {
  const { ticks$, beat, cancelled, stopRequests, service } = setup([{ stop: false, cancelledIds: ["a", "b"] }]);
  ticks$.next();
  await beat.called(1);
  await service.stop();
  expect(beat.calls.map(([, id]) => id)).toEqual(["orch-1"]);
  expect(cancelled).toEqual(["a", "b"]);
  expect(stopRequests()).toBe(0);
});

test("a heartbeat that says stop asks the orchestrator to stop", async () => {
  const { ticks$, beat, stopRequests, service } = setup([{ stop: true, cancelledIds: [] }]);
  ticks$.next();
  await beat.called(1);
  await service.stop();
  expect(stopRequests()).toBe(1);
});

test("a failed heartbeat is logged and the next tick beats again", async () => {
  const { ticks$, beat, cancelled, service, logs } = setup([new Error("connection lost"), { stop: false, cancelledIds: ["x"] }]);
  ticks$.next();
  await beat.called(1);
  ticks$.next();
  await beat.called(2);
  await service.stop();
  expect(logs.filter((l) => l.level === "warn").map((l) => l.message)).toEqual(["heartbeat failed"]);
  expect(cancelled).toEqual(["x"]);
});

test("no tick after stop reaches the database", async () => {
  const { ticks$, beat, service } = setup([{ stop: false, cancelledIds: [] }]);
  await service.stop();
  ticks$.next();
  expect(beat.calls).toHaveLength(0);
});

test("each beat names what the orchestrator holds at that moment, with the grace; releases are logged once per beat", async () => {
  let holding = ["e1", "e2"];
  const { ticks$, beat, service, logs } = setup(
    [{ stop: false, cancelledIds: [], released: 3 }, { stop: false, cancelledIds: [] }],
    () => holding,
  );
  ticks$.next();
  await beat.called(1);
  holding = [];
  ticks$.next();
  await beat.called(2);
  await service.stop();
  expect(beat.calls.map(([, , held, grace]) => [held, grace])).toEqual([[["e1", "e2"], 1_000], [[], 1_000]]);
  const warnings = logs.filter((l) => l.level === "warn");
  expect(warnings.map((l) => l.message)).toEqual(["released executions this orchestrator had claimed but never received (a claim's reply was lost)"]);
  expect(warnings[0].fields).toMatchObject({ count: 3 });
});

test("without a held list the beat releases nothing (it sends null)", async () => {
  const { ticks$, beat, service } = setup([{ stop: false, cancelledIds: [] }]);
  ticks$.next();
  await beat.called(1);
  await service.stop();
  expect(beat.calls[0][2]).toBeNull();
});
