/** The pure parts of a batch invoke: recognising one, and sending each dedupe key once. */
import type { NewExecution } from "../db/invoke";

/** An array whose every element is `{ payload, ...options }` is a batch invoke. */
export function isBatchInvoke<Item extends { payload: unknown }>(value: unknown): value is Item[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => item !== null && typeof item === "object" && "payload" in item);
}

/**
 * Writes the rows with each dedupe key (per task and queue) sent once — one statement cannot upsert
 * a row twice — and returns an id for every input row, repeated keys sharing the first one's id.
 */
export async function writeOncePerDedupeKey(
  rows: readonly NewExecution[],
  write: (unique: NewExecution[]) => Promise<string[]>,
): Promise<string[]> {
  const firstByKey = new Map<string, number>();
  const unique: NewExecution[] = [];
  const positions = rows.map((row) => {
    const key = row.dedupeKey ? `${row.taskKey}\u0000${row.queue}\u0000${row.dedupeKey}` : null;
    const seen = key === null ? undefined : firstByKey.get(key);
    if (seen !== undefined) return seen;
    if (key !== null) firstByKey.set(key, unique.length);
    unique.push(row);
    return unique.length - 1;
  });
  const ids = await write(unique);
  return positions.map((position) => ids[position]);
}
