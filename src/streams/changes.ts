/**
 * Row changes from a pgoutput replication stream, grouped into the transactions they committed in.
 * pgoutput sends a transaction only once it has committed, framed by `begin` and `commit`; the
 * assembler turns that message sequence into whole transactions, each change numbered within its
 * transaction so (commit LSN, index) names it uniquely and identically on every replay.
 */
import type { Pgoutput } from "pg-logical-replication";
import { parseLsn } from "./lsn";

export type Row = Record<string, unknown>;
export type Operation = "insert" | "update" | "delete";

export interface RowChange {
  /** Position of the change within its transaction (0-based, counting every published change). */
  index: number;
  schema: string;
  table: string;
  operation: Operation;
  old: Row | null;
  new: Row | null;
}

export interface DecodedTransaction {
  /** LSN of the commit record: with `index`, the identity of each change. */
  commitLsn: string;
  /** End of the commit record: everything before it is done once this transaction is. */
  commitEnd: bigint;
  changes: RowChange[];
}

export interface TransactionAssembler {
  /** Feeds one decoded message; returns the transaction when this message committed it. */
  push(message: Pgoutput.Message): DecodedTransaction | null;
  /** True between a `begin` and its `commit`. */
  readonly inTransaction: boolean;
}

export function createTransactionAssembler(): TransactionAssembler {
  let open: { commitLsn: string; changes: RowChange[] } | null = null;
  return {
    get inTransaction() {
      return open !== null;
    },
    push(message) {
      switch (message.tag) {
        case "begin":
          open = { commitLsn: message.commitLsn ?? "0/0", changes: [] };
          return null;
        case "insert":
        case "update":
        case "delete":
          open?.changes.push(toRowChange(message, open.changes.length));
          return null;
        case "commit": {
          if (!open) return null;
          const done: DecodedTransaction = {
            commitLsn: message.commitLsn ?? open.commitLsn,
            commitEnd: parseLsn(message.commitEndLsn ?? message.commitLsn ?? open.commitLsn),
            changes: open.changes,
          };
          open = null;
          return done;
        }
        default:
          return null;
      }
    },
  };
}

function toRowChange(message: Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete, index: number): RowChange {
  const { schema, name: table } = message.relation;
  const int8 = message.relation.columns.filter((column) => column.typeOid === INT8_OID).map((column) => column.name);
  const row = (values: Row | null) => values && numbersForInt8(values, int8);
  switch (message.tag) {
    case "insert":
      return { index, schema, table, operation: "insert", old: null, new: row(message.new) };
    case "update": {
      const old = row(message.old ?? message.key ?? null);
      return { index, schema, table, operation: "update", old, new: withUnchangedToast(row(message.new)!, old) };
    }
    case "delete":
      return { index, schema, table, operation: "delete", old: row(message.old ?? message.key ?? null), new: null };
  }
}

const INT8_OID = 20;

/**
 * int8 arrives as a string. Generated Database types (Supabase's too) call it `number`, so a value
 * that a JavaScript number holds exactly becomes one; larger ones stay strings.
 */
export function numbersForInt8(values: Row, int8Columns: readonly string[]): Row {
  const row: Row = { ...values };
  for (const column of int8Columns) {
    const value = row[column];
    if (typeof value === "string" && Number.isSafeInteger(Number(value))) row[column] = Number(value);
  }
  return row;
}

/** An update's new row omits unchanged TOASTed values (they arrive as undefined): take them from the old row. */
export function withUnchangedToast(next: Row, old: Row | null): Row {
  const row: Row = { ...next };
  for (const key of Object.keys(row)) {
    if (row[key] === undefined && old && old[key] !== undefined) row[key] = old[key];
  }
  return row;
}
