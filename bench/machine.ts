/** The facts printed above the results: hardware, Node, PostgreSQL and its durability settings, date. */
import { cpus } from "node:os";
import type { Sql } from "postgres";

export async function machineLine(sql: Sql, embedded: boolean): Promise<string> {
  const [row] = await sql<{ version: string; fsync: string; commit: string }[]>`
    select current_setting('server_version') as version, current_setting('fsync') as fsync,
           current_setting('synchronous_commit') as commit`;
  const cpu = cpus();
  const server = `${embedded ? "embedded " : ""}PostgreSQL ${row.version} (fsync=${row.fsync}, synchronous_commit=${row.commit})`;
  return `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC | ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${cpu.length} cores | Node ${process.version} | ${server}`;
}
