/**
 * `when` conditions are SQL, written with NEW. and OLD. as in a PostgreSQL trigger, and evaluated by
 * the database itself: each candidate's rows become records of the trigger's table named "new" and
 * "old" (identifiers fold to lower case, so NEW.active reads new.active). PostgreSQL then checks the
 * condition with its own types, operators and functions; nothing is re-implemented in JavaScript.
 */
import type { Sql } from "postgres";
import type { RecordedTableTrigger } from "./table-triggers";

type WhenTrigger = Pick<RecordedTableTrigger, "schema" | "table" | "when">;

/** A row change to decide: its trigger and the rows as they arrived (null where absent). */
export interface WhenInput {
  trigger: WhenTrigger;
  newRow: unknown;
  oldRow: unknown;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** FROM items that bring `new` and `old` into scope, as records of the trigger's table. */
function rowScope(trigger: Pick<WhenTrigger, "schema" | "table">, newRow: string, oldRow: string): string {
  const type = `null::${ident(trigger.schema)}.${ident(trigger.table)}`;
  return `jsonb_populate_record(${type}, ${newRow}) as "new", jsonb_populate_record(${type}, ${oldRow}) as "old"`;
}

/** The condition as a boolean expression (a null result counts as false). Newlines keep a `--` comment inside it. */
function condition(when: string): string {
  return `coalesce((\n${when}\n), false)`;
}

/**
 * Checks that a `when` is a boolean expression over the table's columns by evaluating it once on
 * empty rows. Returns the database's complaint, or null when it is fine.
 */
export async function checkWhen(sql: Sql, trigger: Pick<WhenTrigger, "schema" | "table">, when: string): Promise<string | null> {
  try {
    await sql.unsafe(`select ${condition(when)} as ok from ${rowScope(trigger, "null::jsonb", "null::jsonb")}`);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * One statement that evaluates the `when` of many candidates at once; built once per set of
 * triggers. Its parameters come from `whenArguments`.
 */
export function whenStatement(triggers: readonly WhenTrigger[]): { text: string; slot: Map<WhenTrigger, number> } {
  const slot = new Map<WhenTrigger, number>();
  const branches: string[] = [];
  for (const trigger of triggers) {
    if (!trigger.when) continue;
    slot.set(trigger, slot.size);
    branches.push(
      `when ${slot.size - 1} then (select ${condition(trigger.when)} from ${rowScope(trigger, "c.new_row", "c.old_row")})`,
    );
  }
  // One aggregated row: a condition that fails on some row fails the statement before any row is
  // sent. postgres.js resets its row counter only when a statement completes, so an error after
  // some rows would leave holes at the start of the next result on that connection (a claim).
  const text =
    `select coalesce(array_agg(c.n), '{}'::int[]) as passed\n` +
    `from unnest($1::int[], $2::int[], $3::text[]::jsonb[], $4::text[]::jsonb[]) as c(n, trg, new_row, old_row)\n` +
    `where case c.trg ${branches.join("\n")} else false end`;
  return { text, slot };
}

/** The positions in `inputs` whose trigger has no `when`, or whose `when` holds for their rows. */
export async function passingWhen(sql: Sql, statement: ReturnType<typeof whenStatement>, inputs: readonly WhenInput[]): Promise<Set<number>> {
  const passed = new Set<number>();
  const conditional: number[] = [];
  inputs.forEach((input, n) => (input.trigger.when ? conditional.push(n) : passed.add(n)));
  if (conditional.length === 0) return passed;
  const json = (row: unknown) => (row === null || row === undefined ? null : JSON.stringify(row));
  const [row] = await sql.unsafe<{ passed: number[] }[]>(statement.text, [
    conditional,
    conditional.map((n) => statement.slot.get(inputs[n].trigger) ?? -1),
    conditional.map((n) => json(inputs[n].newRow)),
    conditional.map((n) => json(inputs[n].oldRow)),
  ] as never[]);
  for (const n of row.passed) passed.add(n);
  return passed;
}
