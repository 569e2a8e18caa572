/**
 * Trace context on the execution row: the W3C `traceparent` of the span active at invoke
 * ("00-<32 hex trace id>-<16 hex span id>-<2 hex flags>"), written to executions.trace_context and
 * turned back into a remote parent for the attempt's span. Independent of any registered
 * propagator, so it works with the bare @opentelemetry/api.
 */
import { context, isSpanContextValid, ROOT_CONTEXT, trace, type Context, type SpanContext } from "@opentelemetry/api";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function formatTraceparent(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

export function parseTraceparent(text: string | null | undefined): SpanContext | null {
  const match = text ? TRACEPARENT.exec(text) : null;
  if (!match) return null;
  const span: SpanContext = { traceId: match[1], spanId: match[2], traceFlags: parseInt(match[3], 16), isRemote: true };
  return isSpanContextValid(span) ? span : null;
}

/** The traceparent of the active span, or null (nothing traced: the common, free case). */
export function activeTraceparent(): string | null {
  const span = trace.getSpanContext(context.active());
  return span && isSpanContextValid(span) ? formatTraceparent(span) : null;
}

/** The context an attempt's span starts in: the invoking span as remote parent, else a root. */
export function parentContext(traceparent: string | null | undefined): Context {
  const span = parseTraceparent(traceparent);
  return span ? trace.setSpanContext(ROOT_CONTEXT, span) : ROOT_CONTEXT;
}
