/**
 * Reacting to rows: a welcome email for every new user, without touching the code that inserts
 * users. The orchestrator reads inserts into `public.users` from the write-ahead log (logical
 * replication), so a signup made by any program (another service, psql, a migration) starts the task,
 * exactly once, even if an orchestrator crashes.
 *
 *   npx tsx examples/user-signup.ts                       # embedded PostgreSQL
 *   DATABASE_URL=postgres://... npx tsx examples/user-signup.ts   # needs wal_level=logical
 */
import postgres from "postgres";
import { Conductor, DatabaseSchema, Orchestrator, TaskSchemas, defineTask, type Logger } from "pgconductor-js";
import { startLocalPostgres } from "../src/dev/local-postgres";

/** What `pgconductor gen types typescript --schemas public` prints for this table (Supabase's shape). */
export type Database = {
  public: {
    Tables: {
      users: {
        Row: { id: number; email: string; name: string; marketing_opt_in: boolean; created_at: string };
        Insert: { id?: number; email: string; name: string; marketing_opt_in?: boolean; created_at?: string };
        Update: { id?: number; email?: string; name?: string; marketing_opt_in?: boolean; created_at?: string };
      };
    };
  };
};

export interface WelcomeEmail {
  to: string;
  name: string;
  userId: number;
}

/**
 * Creates the users table if needed and starts an orchestrator whose task sends (here: hands to
 * `send`) a welcome email for every inserted user who opted in to email.
 */
export async function startUserSignup(databaseUrl: string, send: (email: WelcomeEmail) => Promise<void> | void, logger?: Logger) {
  const sql = postgres(databaseUrl, { onnotice: () => {} });
  await sql`
    create table if not exists public.users (
      id bigint generated always as identity primary key,
      email text not null unique,
      name text not null,
      marketing_opt_in boolean not null default false,
      created_at timestamptz not null default now()
    )`;

  const conductor = Conductor.create({
    sql,
    tasks: TaskSchemas.fromSchema([defineTask({ name: "send-welcome-email" })]),
    database: DatabaseSchema.fromGeneratedTypes<Database>(),
    context: {},
    logger,
  });

  const welcome = conductor.createTask(
    { name: "send-welcome-email", maxAttempts: 5 },
    { schema: "public", table: "users", operation: "insert", columns: "id,email,name", when: "NEW.marketing_opt_in" },
    async (event, ctx) => {
      // Typed from the Database type: { id: number; email: string; name: string }.
      const user = event.payload.new;
      await ctx.step("send", () => send({ to: user.email, name: user.name, userId: user.id }));
    },
  );

  const orchestrator = Orchestrator.create({ conductor, tasks: [welcome] });
  await orchestrator.start();
  return {
    sql,
    orchestrator,
    async stop() {
      await orchestrator.stop();
      await sql.end({ timeout: 5 });
    },
  };
}

async function main() {
  const server = await startLocalPostgres();
  const sent: WelcomeEmail[] = [];
  const signup = await startUserSignup(server.url, (email) => {
    sent.push(email);
    console.log(`welcome email to ${email.name} <${email.to}> (user ${email.userId})`);
  });
  try {
    // Any program could insert these; the orchestrator sees them in the WAL.
    await signup.sql`
      insert into public.users (email, name, marketing_opt_in) values
        (${`ada+${Date.now()}@example.com`}, 'Ada', true),
        (${`bob+${Date.now()}@example.com`}, 'Bob', false),
        (${`cy+${Date.now()}@example.com`}, 'Cy', true)`;
    const deadline = Date.now() + 15_000;
    while (sent.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    console.log(`${sent.length} welcome emails sent (Bob did not opt in)`);
  } finally {
    await signup.stop();
    await server.stop();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
