/** The inspection functions say "not installed" instead of failing on a missing table. */
import type { Sql } from "postgres";
import { ConfigurationError } from "../model/errors";
import { isSchemaInstalled } from "../db/inspect-system";

const installed = new WeakSet<Sql>();

export async function requireInstalled(sql: Sql): Promise<void> {
  if (installed.has(sql)) return;
  if (!(await isSchemaInstalled(sql))) {
    throw new ConfigurationError("pgconductor is not installed in this database (run `pgconductor migrate` or conductor.ensureInstalled())");
  }
  installed.add(sql);
}
