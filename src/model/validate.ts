import type { StandardSchemaV1 } from "@standard-schema/spec";
import { ValidationError } from "./errors";

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
