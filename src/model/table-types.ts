/**
 * Types of table triggers from the user's `Database` type (Supabase's shape:
 * `Database[schema]["Tables"][table]["Row"]`): typed `columns` and typed `event.payload.old/new`.
 * Without a Database type everything falls back to `Record<string, unknown>`.
 */

/** The Row type of a table, never when the Database type has no such table. */
export type TableRow<Database, Schema extends string, Table extends string> = Database extends { [S in Schema]: { Tables: infer Tables } }
  ? Table extends keyof Tables
    ? Tables[Table] extends { Row: infer Row }
      ? Row
      : never
    : never
  : never;

type Trim<S extends string> = S extends ` ${infer R}` ? Trim<R> : S extends `${infer R} ` ? Trim<R> : S;

/** "id, email" → "id" | "email". */
export type ColumnNames<Columns extends string> = Columns extends `${infer Head},${infer Rest}` ? Trim<Head> | ColumnNames<Rest> : Trim<Columns>;

type Selected<Database, S extends string, T extends string, C extends string> = unknown extends Database
  ? Record<string, unknown>
  : Pick<TableRow<Database, S, T>, ColumnNames<C> & keyof TableRow<Database, S, T>>;

/** `{ tg_op, old, new }` of one operation, holding only the selected columns. */
export type TableChangePayload<Database, S extends string, T extends string, Operation extends string, C extends string> = Operation extends "insert"
  ? { tg_op: "INSERT"; old: null; new: Selected<Database, S, T, C> }
  : Operation extends "update"
    ? { tg_op: "UPDATE"; old: Selected<Database, S, T, C>; new: Selected<Database, S, T, C> }
    : Operation extends "delete"
      ? { tg_op: "DELETE"; old: Selected<Database, S, T, C>; new: null }
      : { tg_op: "INSERT" | "UPDATE" | "DELETE"; old: Selected<Database, S, T, C> | null; new: Selected<Database, S, T, C> | null };

type CheckOne<T, Database> = T extends { schema: infer S extends string; table: infer Tb extends string; columns: infer C extends string }
  ? [TableRow<Database, S, Tb>] extends [never]
    ? { table: `no table ${S}.${Tb} in the Database type` }
    : [Exclude<ColumnNames<C>, keyof TableRow<Database, S, Tb>>] extends [never]
      ? unknown
      : { columns: `no column "${Exclude<ColumnNames<C>, keyof TableRow<Database, S, Tb> | symbol | number>}" in ${S}.${Tb}` }
  : unknown;

/**
 * Intersected with createTask's `triggers`: with a Database type, a table trigger naming a table or
 * column the type does not have becomes a compile error; otherwise it adds nothing.
 */
export type CheckTableTriggers<Triggers, Database> = unknown extends Database
  ? unknown
  : Triggers extends readonly unknown[]
    ? { readonly [K in keyof Triggers]: CheckOne<Triggers[K], Database> }
    : CheckOne<Triggers, Database>;
