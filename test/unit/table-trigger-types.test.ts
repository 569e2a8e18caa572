/**
 * Compile-time checks of typed table triggers: `npx tsc --noEmit` fails if a line marked
 * @ts-expect-error compiles or a type assertion below does not hold. Nothing touches a database.
 */
import postgres from "postgres";
import { Conductor, DatabaseSchema, TaskSchemas, defineTask } from "pgconductor-js";

type Database = {
  public: {
    Tables: {
      users: {
        Row: { id: number; email: string; active: boolean; created_at: string };
        Insert: { id?: number; email: string; active?: boolean; created_at?: string };
        Update: { id?: number; email?: string; active?: boolean; created_at?: string };
      };
    };
  };
};

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(_proof?: T) => {};

const tasks = TaskSchemas.fromSchema([defineTask({ name: "welcome" }), defineTask({ name: "audit" })]);

test("columns and payloads are typed from the Database type", async () => {
  const sql = postgres({ max: 1 });
  const conductor = Conductor.create({ sql, tasks, context: {}, database: DatabaseSchema.fromSupabaseTypes<Database>() });

  conductor.createTask({ name: "welcome" }, { schema: "public", table: "users", operation: "insert", columns: "id, email" }, async (event) => {
    assertType<Equal<typeof event.name, "public.users.insert">>();
    assertType<Equal<typeof event.payload.new, { id: number; email: string }>>();
    assertType<Equal<typeof event.payload.old, null>>();
    assertType<Equal<typeof event.payload.tg_op, "INSERT">>();
  });

  conductor.createTask({ name: "audit" }, [{ schema: "public", table: "users", operation: "update", columns: "active" }], async (event) => {
    assertType<Equal<typeof event.payload.old, { active: boolean }>>();
    assertType<Equal<typeof event.payload.new, { active: boolean }>>();
  });

  // @ts-expect-error "colour" is not a column of public.users
  conductor.createTask({ name: "welcome" }, { schema: "public", table: "users", operation: "insert", columns: "id,colour" }, async () => {});
  // @ts-expect-error there is no table public.nope
  conductor.createTask({ name: "welcome" }, { schema: "public", table: "nope", operation: "insert", columns: "id" }, async () => {});

  // Without a Database type, any table and column is accepted and rows are records.
  const untyped = Conductor.create({ sql, tasks, context: {} });
  untyped.createTask({ name: "welcome" }, { schema: "public", table: "anything", operation: "delete", columns: "x" }, async (event) => {
    assertType<Equal<typeof event.payload.old, Record<string, unknown>>>();
    assertType<Equal<typeof event.payload.new, null>>();
  });
  await sql.end();
});
