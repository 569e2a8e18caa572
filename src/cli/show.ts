import { showExecution, type ExecutionDetail } from "../api/inspect";
import { assertInstalled, executionIdArgument, NOT_INSTALLED, withDatabase, type Command } from "./command";
import { oneLine } from "./list";

export const showCommand: Command = {
  name: "show",
  summary: "One execution: payload, result or error, attempts, steps with their stored results, parent and children, timeline.",
  usage: "<execution-id> [--json]",
  options: { json: { type: "boolean" } },
  positionals: [1, 1],
  async run(args, io) {
    const id = executionIdArgument(args.positionals[0]);
    return withDatabase(args, io, async (sql) => {
      if (!(await assertInstalled(sql))) return io.err(NOT_INSTALLED), 1;
      const detail = await showExecution(sql, id);
      if (!detail) return io.err(`no execution ${id}`), 1;
      io.out(args.values.json ? JSON.stringify(detail, null, 2) : renderDetail(detail));
      return 0;
    });
  },
};

const json = (value: unknown) => JSON.stringify(value ?? null);

export function renderDetail(d: ExecutionDetail): string {
  const lines = [
    `execution  ${d.id}`,
    `task       ${d.task} (queue ${d.queue}, event ${d.eventName})`,
    `status     ${d.status}${d.cancelRequested && d.status === "running" ? " (cancel requested)" : ""}`,
    `attempts   ${d.attempts} of ${d.maxAttempts ?? "?"}`,
    `created    ${d.createdAt.toISOString()}${d.dedupeKey ? `  dedupe key ${d.dedupeKey}` : ""}${d.priority ? `  priority ${d.priority}` : ""}`,
    `run at     ${d.runAt.getTime() < 8.64e15 ? d.runAt.toISOString() : "when woken"}`,
    `payload    ${json(d.payload)}`,
  ];
  if (d.status === "completed") lines.push(`result     ${json(d.result)}`);
  if (d.lastError !== null) lines.push(`${d.status === "completed" ? "last error" : "error     "} ${d.lastError}`);
  if (d.cancelReason) lines.push(`reason     ${d.cancelReason}`);
  if (d.lockedBy) lines.push(`held by    orchestrator ${d.lockedBy}`);
  if (d.traceContext) lines.push(`trace      ${d.traceContext}`);
  if (d.parent) lines.push(`parent     ${d.parent.id} (${d.parent.task}, ${d.parent.status})`);
  if (d.children.length > 0) {
    lines.push("children");
    for (const child of d.children) lines.push(`  ${child.id}  ${child.task}  ${child.status}${child.step ? `  step ${child.step}` : ""}`);
  }
  if (d.steps.length > 0) {
    lines.push("steps");
    const width = Math.max(...d.steps.map((step) => step.name.length));
    for (const step of d.steps) lines.push(`  ${step.kind.padEnd(8)}  ${step.name.padEnd(width)}  ${oneLine(json(step.result), 100)}`);
  }
  lines.push("timeline");
  for (const entry of d.timeline) lines.push(`  ${entry.at.toISOString()}  ${entry.kind.padEnd(15)}  ${entry.text}`);
  return lines.join("\n");
}
