import { isBatchInvoke, writeOncePerDedupeKey } from "../../src/api/invoke-batch";
import type { NewExecution } from "../../src/db/invoke";

const row = (taskKey: string, dedupeKey?: string, queue = "default"): NewExecution => ({ taskKey, queue, payload: null, dedupeKey });

test("an array of { payload } objects is a batch; anything else is one payload", () => {
  expect(isBatchInvoke([{ payload: 1 }, { payload: null, priority: 2 }])).toBe(true);
  expect(isBatchInvoke([])).toBe(false);
  expect(isBatchInvoke([1, 2])).toBe(false);
  expect(isBatchInvoke([{ payload: 1 }, { id: 2 }])).toBe(false);
  expect(isBatchInvoke({ payload: 1 })).toBe(false);
});

test("each dedupe key is written once per task and queue; repeated keys get the first one's id", async () => {
  const written: NewExecution[][] = [];
  const ids = await writeOncePerDedupeKey(
    [row("a", "k"), row("a"), row("a", "k"), row("b", "k"), row("a", "k", "other"), row("a")],
    async (unique) => {
      written.push(unique);
      return unique.map((_, index) => `id${index}`);
    },
  );
  expect(written[0].map((r) => `${r.taskKey}/${r.queue}/${r.dedupeKey ?? "-"}`)).toEqual([
    "a/default/k", "a/default/-", "b/default/k", "a/other/k", "a/default/-",
  ]);
  expect(ids).toEqual(["id0", "id1", "id0", "id2", "id3", "id4"]);
});
