import { CancelListener } from "../../../src/runtime/cancel-listener";
import { CANCEL_CHANNEL } from "../../../src/model/channels";
import { fakeContext } from "./fakes";

test("aborts executions this orchestrator runs, ignores other orchestrators and bad payloads", () => {
  const aborted: string[] = [];
  const fake = fakeContext("orch-1");
  const listener = new CancelListener((id) => aborted.push(id));
  listener.start(fake.context);
  const channel = fake.channel(CANCEL_CHANNEL);
  channel.next({ type: "listening" });
  channel.next({ type: "notification", payload: "orch-1|exec-a" });
  channel.next({ type: "notification", payload: "orch-2|exec-b" });
  channel.next({ type: "notification", payload: "garbage" });
  channel.next({ type: "notification", payload: "orch-1|exec-c" });
  listener.stop();
  channel.next({ type: "notification", payload: "orch-1|exec-d" });
  expect(aborted).toEqual(["exec-a", "exec-c"]);
});
