/** The shape of a table trigger `{ schema, table, operation, columns, when? }`, checked at createTask. */
import { ConfigurationError } from "./errors";

const OPERATIONS = ["insert", "update", "delete"];
const KEYS = new Set(["schema", "table", "operation", "columns", "when"]);

/** "a, b,c" → ["a", "b", "c"]. */
export function parseColumns(columns: string): string[] {
  return columns.split(",").map((column) => column.trim());
}

export function validateTableTrigger(label: string, trigger: Record<string, unknown>): void {
  const fail = (rule: string) => {
    throw new ConfigurationError(`${label} (table trigger): ${rule}`);
  };
  for (const key of Object.keys(trigger)) {
    if (!KEYS.has(key)) fail(`unknown field "${key}"; a table trigger has schema, table, operation, columns and optionally when`);
  }
  for (const key of ["schema", "table"] as const) {
    if (typeof trigger[key] !== "string" || (trigger[key] as string).trim() === "") fail(`${key} is required and must be a non-empty string`);
  }
  if (typeof trigger.operation !== "string" || !OPERATIONS.includes(trigger.operation)) {
    fail(`operation must be "insert", "update" or "delete" (got ${JSON.stringify(trigger.operation)})`);
  }
  if (typeof trigger.columns !== "string" || trigger.columns.trim() === "") {
    fail(`columns is required: a comma list of the columns the payload keeps, e.g. "id,email"`);
  }
  const columns = parseColumns(trigger.columns as string);
  if (columns.some((column) => column === "")) fail(`columns "${trigger.columns}" has an empty name`);
  const repeated = columns.find((column, index) => columns.indexOf(column) !== index);
  if (repeated) fail(`columns "${trigger.columns}" names "${repeated}" twice`);
  if (trigger.when !== undefined && (typeof trigger.when !== "string" || trigger.when.trim() === "")) {
    fail(`when must be a non-empty SQL condition such as "NEW.active = true"`);
  }
}
