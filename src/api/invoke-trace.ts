/**
 * The trace context of an invoke: the traceparent of the span active at the call goes on every row
 * it writes, so each attempt's span continues the invoking trace, in whatever process runs it.
 * Nothing is added when no span is active (nothing traced).
 */
import type { NewExecution } from "../db/invoke";
import { activeTraceparent } from "../runtime/telemetry/trace-context";

export function withTraceContext<Row extends NewExecution>(rows: Row[]): Row[] {
  const traceContext = activeTraceparent();
  if (traceContext === null) return rows;
  return rows.map((row) => ({ ...row, traceContext }));
}
