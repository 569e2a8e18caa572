/**
 * `npm run demo`: the main job, end to end, on an embedded PostgreSQL (or DATABASE_URL).
 *
 * - a burst of orders is inserted into the app's own `orders` table; every insert is read from the
 *   write-ahead log and starts an `audit-order` execution (a table trigger);
 * - each order is invoked as a `process-order` workflow: durable steps, a sleep, and a child task
 *   `send-receipt` whose result the parent waits for;
 * - one receipt fails on its first attempt and is retried after the 15 s backoff, then succeeds;
 * - a progress line shows the counts as they change; the demo stops by itself with a summary.
 *
 * It never hangs quietly: an error the orchestrator logs (say, the table-change consumer cannot read
 * the slot), a failed execution, or a minute without progress ends it with the reason and exit code 1.
 */
import postgres from "postgres";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask, type Logger } from "pgconductor-js";
import { startLocalPostgres } from "../src/dev/local-postgres";
import { connectionProblem, redactUrl } from "../src/model/connection-url";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "process-order", payload: z.object({ orderId: z.number(), amountCents: z.number().int().positive() }) }),
  defineTask({ name: "send-receipt", payload: z.object({ orderId: z.number() }), returns: z.object({ messageId: z.string() }) }),
  defineTask({ name: "audit-order" }),
]);

export interface DemoSummary {
  orders: number;
  completed: number;
  failed: number;
  retried: number;
  audits: number;
  seconds: number;
}

/** The demo stopped before its summary; the message says why. */
export class DemoError extends Error {}

export interface DemoOptions {
  databaseUrl: string;
  orders?: number;
  print?: (line: string) => void;
  /** Receives every log line; errors end the demo whatever logger is given. */
  logger?: Logger;
  /** Give up when the counts have not changed for this long (default 60 000 ms). */
  stallMs?: number;
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const orders = options.orders ?? 25;
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const sql = postgres(options.databaseUrl, { onnotice: () => {}, connect_timeout: 10 });
  // Only errors are shown (the planned receipt failure is a warning); the first one ends the demo.
  let firstError: string | null = null;
  const logger: Logger = {
    debug: (message, fields) => options.logger?.debug(message, fields),
    info: (message, fields) => options.logger?.info(message, fields),
    warn: (message, fields) => options.logger?.warn(message, fields),
    error: (message, fields) => {
      options.logger?.error(message, fields);
      const cause = fields?.error instanceof Error ? ` (${fields.error.message})` : "";
      firstError ??= `${message}${cause}`;
    },
  };
  const startedAt = Date.now();
  let orchestrator: Orchestrator | null = null;
  try {
    await sql`drop table if exists public.pgconductor_demo_orders`;
    await sql`create table public.pgconductor_demo_orders (id integer primary key, customer text not null, amount_cents integer not null)`;

    const conductor = Conductor.create({ sql, tasks, context: { shop: "demo-shop" }, logger });
    const attemptsByOrder = new Map<number, number>();

    const processOrder = conductor.createTask({ name: "process-order" }, { invocable: true }, async (event, ctx) => {
      const { orderId, amountCents } = event.payload;
      await ctx.step("reserve-stock", () => ({ reserved: true }));
      const charge = await ctx.step("charge-card", () => ({ chargeId: `ch_${orderId}`, amountCents }));
      await ctx.sleep("settle", 300); // the slot is free while the payment settles
      const receipt = await ctx.invoke("receipt", { name: "send-receipt" }, { orderId });
      return { chargeId: charge.chargeId, receipt: receipt.messageId, shop: ctx.shop };
    });

    const sendReceipt = conductor.createTask({ name: "send-receipt" }, { invocable: true }, async (event) => {
      const attempt = (attemptsByOrder.get(event.payload.orderId) ?? 0) + 1;
      attemptsByOrder.set(event.payload.orderId, attempt);
      if (event.payload.orderId === 3 && attempt === 1) throw new Error("mail server timed out");
      return { messageId: `msg_${event.payload.orderId}_${attempt}` };
    });

    const auditOrder = conductor.createTask(
      { name: "audit-order" },
      { schema: "public", table: "pgconductor_demo_orders", operation: "insert", columns: "id,customer,amount_cents" },
      async (event) => ({ audited: event.payload.new?.id }),
    );

    orchestrator = Orchestrator.create({ conductor, tasks: [processOrder, sendReceipt, auditOrder], handleSignals: true });
    await orchestrator.start();
    print(`orchestrator ${orchestrator.id.slice(0, 8)} started; inserting ${orders} orders and invoking a workflow for each`);

    await sql.begin(async (tx) => {
      for (let id = 1; id <= orders; id++) {
        await tx`insert into public.pgconductor_demo_orders (id, customer, amount_cents) values (${id}, ${`customer-${id}`}, ${1000 + id})`;
      }
      await conductor.invoke(
        { name: "process-order" },
        Array.from({ length: orders }, (_, index) => ({ payload: { orderId: index + 1, amountCents: 1000 + index + 1 } })),
        { sql: tx },
      );
    });

    const expected = { "process-order": orders, "send-receipt": orders, "audit-order": orders };
    let lastLine = "";
    let changedAt = Date.now();
    for (;;) {
      const rows = await sql<{ task_key: string; status: string; retrying: number; n: number }[]>`
        select task_key, status, count(*)::int as n,
               count(*) filter (where status = 'pending' and attempts > 0 and last_error is not null)::int as retrying
        from pgconductor.executions group by task_key, status`;
      const count = (status: string, task?: string) =>
        rows.filter((r) => r.status === status && (!task || r.task_key === task)).reduce((sum, r) => sum + r.n, 0);
      const retrying = rows.reduce((sum, r) => sum + r.retrying, 0);
      const line =
        `done ${count("completed")}/${orders * 3}  running ${count("running")}  waiting ${count("pending") - retrying}` +
        `  retrying ${retrying}  failed ${count("failed")}` +
        `  | orders ${count("completed", "process-order")}/${orders} receipts ${count("completed", "send-receipt")}/${orders}` +
        ` audits ${count("completed", "audit-order")}/${orders}` +
        (retrying > 0 ? "  (a receipt failed; retrying after the 15 s backoff)" : "");
      if (line !== lastLine) {
        print(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)}s] ${line}`);
        changedAt = Date.now();
      }
      lastLine = line;
      if (firstError) throw new DemoError(`the orchestrator reported an error: ${firstError}`);
      if (count("failed") > 0) {
        const [failure] = await sql<{ task_key: string; last_error: string }[]>`
          select task_key, last_error from pgconductor.executions where status = 'failed' order by finished_at limit 1`;
        throw new DemoError(`an execution of "${failure.task_key}" failed: ${failure.last_error}`);
      }
      const finished = Object.entries(expected).every(([task, n]) => count("completed", task) >= n);
      if (finished) break;
      if (Date.now() - changedAt > (options.stallMs ?? 60_000)) {
        const missing = Object.entries(expected).filter(([task, n]) => count("completed", task) < n).map(([task, n]) => `${task} ${count("completed", task)}/${n}`);
        throw new DemoError(`no progress for ${Math.round((Date.now() - changedAt) / 1000)} s; still waiting for ${missing.join(", ")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await orchestrator.stop();
    orchestrator = null;

    const [totals] = await sql<{ completed: number; failed: number; retried: number }[]>`
      select count(*) filter (where status = 'completed')::int as completed,
             count(*) filter (where status = 'failed')::int as failed,
             count(*) filter (where attempts > 1)::int as retried
      from pgconductor.executions`;
    const summary: DemoSummary = {
      orders,
      completed: totals.completed,
      failed: totals.failed,
      retried: totals.retried,
      audits: orders,
      seconds: (Date.now() - startedAt) / 1000,
    };
    print(
      `summary: ${summary.completed} executions completed, ${summary.failed} failed, ${summary.retried} succeeded after a retry, ` +
        `${orders} table-change audits, in ${summary.seconds.toFixed(1)} s`,
    );
    return summary;
  } finally {
    await orchestrator?.stop();
    await sql.end({ timeout: 5 });
  }
}

async function main() {
  const server = await startLocalPostgres();
  console.log(server.embedded ? "started an embedded PostgreSQL (wal_level=logical)" : `using DATABASE_URL (${redactUrl(server.url)})`);
  try {
    await runDemo({ databaseUrl: server.url });
  } catch (error) {
    const problem = connectionProblem(error);
    if (problem) throw new DemoError(`cannot connect to ${redactUrl(server.url)}: ${problem}`);
    throw error;
  } finally {
    await server.stop();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(`demo failed: ${error instanceof DemoError ? error.message : ((error as Error)?.stack ?? String(error))}`);
      process.exit(1);
    },
  );
}
