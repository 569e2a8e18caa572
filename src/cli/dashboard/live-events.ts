/**
 * Server-sent events for the dashboard: the execution events `conductor.observe()` delivers
 * (one LISTEN connection shared by every open page), batched every 250 ms into one message, plus
 * `ready` whenever the listener is (again) registered — the page then re-reads what it shows, since
 * anything that happened before is in the tables. A pause or resume of a queue or task is sent as
 * `event: pause` at once (the page re-reads its overview).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { bufferTime, filter, map, merge, share, type Subscription } from "rxjs";
import type { Observability } from "../../api/observability";
import type { ExecutionEvent, PauseEvent } from "../../model/execution-event";

const MAX_EVENTS_PER_MESSAGE = 500;

/** What a page needs of an event (results and errors are read on demand). */
export function pageEvent(event: ExecutionEvent) {
  return { kind: event.kind, id: event.executionId, task: event.task, queue: event.queue, attempt: event.attempt, at: event.at.getTime() };
}

export function serveLiveEvents(observability: Observability, req: IncomingMessage, res: ServerResponse, heartbeatMs = 15_000): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.write(": pgconductor live events\n\n");
  const ready = observability.hub.messages().pipe(filter((message) => message.type === "ready"), map(() => "event: ready\ndata: {}\n\n"));
  const observed = observability.observe({ pauses: true }).pipe(share());
  const pauses = observed.pipe(
    filter((event): event is PauseEvent => !("executionId" in event)),
    map((event) => `event: pause\ndata: ${JSON.stringify({ kind: event.kind, queue: event.queue ?? null, task: event.task ?? null, at: event.at.getTime() })}\n\n`),
  );
  const events = observed.pipe(
    filter((event): event is ExecutionEvent => "executionId" in event),
    bufferTime(250),
    filter((batch) => batch.length > 0),
    map((batch) => {
      const dropped = Math.max(0, batch.length - MAX_EVENTS_PER_MESSAGE);
      return `data: ${JSON.stringify({ events: batch.slice(-MAX_EVENTS_PER_MESSAGE).map(pageEvent), dropped })}\n\n`;
    }),
  );
  const subscription: Subscription = merge(ready, pauses, events).subscribe({
    next: (chunk) => res.write(chunk),
    error: () => res.end(),
  });
  const heartbeat = setInterval(() => res.write(": ping\n\n"), heartbeatMs);
  heartbeat.unref?.();
  const stop = () => {
    clearInterval(heartbeat);
    subscription.unsubscribe();
  };
  req.once("close", stop);
  res.once("close", stop);
}
