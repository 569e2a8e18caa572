/**
 * Which executions a decoded transaction makes: each change is matched against the registered table
 * triggers by table and operation; a trigger's `when` is decided later, in the database.
 */
import type { RecordedTableTrigger } from "../../db/table-triggers";
import type { DecodedTransaction, Row, RowChange } from "../../streams/changes";

/** A table trigger as recorded in pgconductor.table_triggers. */
export type RegisteredTrigger = RecordedTableTrigger;

/** One execution a change would make, if its trigger's `when` (if any) holds. */
export interface Candidate {
  trigger: RegisteredTrigger;
  change: RowChange;
  commitEnd: bigint;
  dedupeKey: string;
  eventName: string;
  payload: { tg_op: "INSERT" | "UPDATE" | "DELETE"; old: Row | null; new: Row | null };
}

export type TriggerIndex = Map<string, RegisteredTrigger[]>;

const tableKey = (schema: string, table: string, operation: string) => `${schema}\u0000${table}\u0000${operation}`;

export function indexTriggers(triggers: readonly RegisteredTrigger[]): TriggerIndex {
  const index: TriggerIndex = new Map();
  for (const trigger of triggers) {
    const key = tableKey(trigger.schema, trigger.table, trigger.operation);
    index.set(key, [...(index.get(key) ?? []), trigger]);
  }
  return index;
}

/** True when some change has no trigger at all: the trigger set changed since we loaded it. */
export function hasUnknownChange(transactions: readonly DecodedTransaction[], index: TriggerIndex): boolean {
  return transactions.some((tx) => tx.changes.some((c) => !index.has(tableKey(c.schema, c.table, c.operation))));
}

/**
 * The candidates of these transactions, in commit order. A task gets at most one execution per
 * change (two of its triggers matching the same change share the dedupe key).
 */
export function candidatesOf(transactions: readonly DecodedTransaction[], index: TriggerIndex): Candidate[] {
  const candidates: Candidate[] = [];
  for (const tx of transactions) {
    for (const change of tx.changes) {
      for (const trigger of index.get(tableKey(change.schema, change.table, change.operation)) ?? []) {
        candidates.push({
          trigger,
          change,
          commitEnd: tx.commitEnd,
          dedupeKey: `wal:${tx.commitLsn}:${change.index}`,
          eventName: `${change.schema}.${change.table}.${change.operation}`,
          payload: {
            tg_op: change.operation.toUpperCase() as Candidate["payload"]["tg_op"],
            old: change.operation === "insert" ? null : pick(change.old, trigger.columns),
            new: change.operation === "delete" ? null : pick(change.new, trigger.columns),
          },
        });
      }
    }
  }
  return candidates;
}

export function pick(row: Row | null, columns: readonly string[]): Row | null {
  if (!row) return null;
  const picked: Row = {};
  for (const column of columns) picked[column] = row[column] === undefined ? null : row[column];
  return picked;
}
