/** The argument of conductor.pause / resume: `{ queue }` or `{ task }`, one of them. */
import { ConfigurationError } from "../model/errors";
import { assertStorableText } from "../model/validate";
import type { PauseTarget } from "../db/flow-control";

export type PauseSelector = { queue: string; task?: never } | { task: string; queue?: never };
export type PausedEntry = ({ queue: string } | { task: string }) & { pausedAt: Date };

export function pauseTarget(call: "pause" | "resume", selector: unknown): PauseTarget {
  const given = (selector ?? {}) as { queue?: unknown; task?: unknown };
  const kinds = (["queue", "task"] as const).filter((kind) => given[kind] !== undefined);
  if (kinds.length !== 1) throw new ConfigurationError(`${call}: pass { queue: name } or { task: name }, exactly one (got ${JSON.stringify(selector)})`);
  const name = given[kinds[0]];
  if (typeof name !== "string" || name.length === 0) throw new ConfigurationError(`${call}: ${kinds[0]} must be a non-empty string (got ${JSON.stringify(name)})`);
  assertStorableText(call, kinds[0], name);
  return { kind: kinds[0], name };
}
