import type { StandardSchemaV1 } from "@standard-schema/spec";
import { ConfigurationError, ValidationError } from "./errors";

/** Validates `value` against a Standard Schema; the error names the subject (task or event) and the failing paths. */
export async function validateWith<T>(schema: StandardSchemaV1 | undefined, value: unknown, subject: string): Promise<T> {
  if (!schema) return value as T;
  const outcome = await schema["~standard"].validate(value);
  if (!outcome.issues) return outcome.value as T;
  throw new ValidationError(subject, outcome.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })));
}

function formatPath(path: StandardSchemaV1.Issue["path"]): string {
  if (!path || path.length === 0) return "(root)";
  return path.map((segment) => String(typeof segment === "object" ? segment.key : segment)).join(".");
}

/** PostgreSQL's integer (int4) range: priority is stored in one. */
export const INT4_MIN = -2_147_483_648;
export const INT4_MAX = 2_147_483_647;

/**
 * Why PostgreSQL would refuse `text` as a text or jsonb value, or null: it cannot store U+0000, and
 * a lone UTF-16 surrogate has no UTF-8 form (jsonb rejects its escape; text would silently change it).
 */
export function textProblem(text: string): string | null {
  if (text.includes("\u0000")) return "contains the character U+0000 (NUL), which PostgreSQL cannot store";
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)) {
    return "contains a lone UTF-16 surrogate (not valid Unicode), which PostgreSQL cannot store";
  }
  return null;
}

/** Throws a ConfigurationError naming `subject`, `field` and the rule unless `value` is storable text. */
export function assertStorableText(subject: string, field: string, value: unknown, { nonEmpty = false } = {}): string {
  if (typeof value !== "string" || (nonEmpty && value.length === 0)) {
    throw new ConfigurationError(`${subject}: ${field} must be a ${nonEmpty ? "non-empty " : ""}string (got ${describe(value)})`);
  }
  const problem = textProblem(value);
  if (problem) throw new ConfigurationError(`${subject}: ${field} ${problem}`);
  return value;
}

/**
 * Checks that `value` (a payload) can be stored as jsonb: JSON can represent it (no BigInt, no cycle)
 * and no string or key in it holds what PostgreSQL refuses. The error is a ValidationError naming
 * `subject` and the path, like a schema failure; nothing has been written.
 */
export function assertStorableJson(subject: string, value: unknown): void {
  if (value === undefined) return;
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new ValidationError(subject, [{ path: unserialisablePath(value) ?? "(root)", message: `cannot be stored as JSON (${(error as Error).message})` }]);
  }
  // JSON.stringify escapes both NUL and lone surrogates, so a quick look at the text finds candidates.
  if (text === undefined || !/\\u(0000|d[89a-f])/i.test(text)) return;
  const issues: { path: string; message: string }[] = [];
  const walk = (node: unknown, path: string[]): void => {
    if (typeof node === "string") {
      const problem = textProblem(node);
      if (problem) issues.push({ path: path.join(".") || "(root)", message: problem });
    } else if (node && typeof node === "object") {
      for (const [key, child] of Object.entries(node)) {
        const problem = textProblem(key);
        if (problem) issues.push({ path: [...path, JSON.stringify(key)].join("."), message: `the key ${problem}` });
        walk(child, [...path, key]);
      }
    }
  };
  walk(JSON.parse(text), []);
  if (issues.length > 0) throw new ValidationError(subject, issues);
}

/** The path to the first BigInt or cycle, for the error message. */
function unserialisablePath(value: unknown): string | null {
  const seen = new Set<object>();
  const find = (node: unknown, path: string[]): string | null => {
    if (typeof node === "bigint") return path.join(".") || "(root)";
    if (!node || typeof node !== "object") return null;
    if (seen.has(node)) return path.join(".") || "(root)";
    seen.add(node);
    for (const [key, child] of Object.entries(node)) {
      const found = find(child, [...path, key]);
      if (found) return found;
    }
    seen.delete(node);
    return null;
  };
  return find(value, []);
}

export function describe(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number" || value === undefined) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
