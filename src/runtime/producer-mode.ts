/**
 * The producer's whole state as one value, and every change to it as one typed event. `transition`
 * is pure: the producer asks it for the next mode and acts on the answer, so each rule below is
 * unit-tested without a database, a timer or a stream. An event a mode does not accept is a bug
 * in the producer, not a condition to absorb: it throws.
 *
 * - waiting:  nothing is known to be runnable; only an outside wake-up starts a claim.
 * - due:      a claim should run as soon as a slot is free. `external`: because of an outside
 *             wake-up (not just because the last claim came back full).
 * - claiming: one claim is in flight. `signalled`: an outside wake-up arrived meanwhile, so the
 *             result of this claim does not prove the queue empty.
 * - stopped:  claims nothing more; absorbs every event.
 *
 * `limitedQuiet` (all but stopped): the last claim that tried the limited tasks got none of them, so
 * re-claims that only follow a full claim skip counting their running executions until something
 * happens outside the claim loop.
 */

export type ProducerMode =
  | { name: "waiting"; limitedQuiet: boolean }
  | { name: "due"; external: boolean; limitedQuiet: boolean }
  | { name: "claiming"; external: boolean; signalled: boolean; limitedQuiet: boolean }
  | { name: "stopped" };

export type ProducerEvent =
  /** A notification, the due timer, the sweep, a reconnect, a resume, or a limited slot freed here. */
  | { type: "signal" }
  | { type: "claimStarted" }
  /** full: every slot asked for was filled. limitedFound: whether limited work came back (null: not tried). */
  | { type: "claimEnded"; full: boolean; limitedFound: boolean | null }
  | { type: "claimFailed" }
  | { type: "stop" };

export const initialMode: ProducerMode = { name: "due", external: true, limitedQuiet: false };

export function transition(mode: ProducerMode, event: ProducerEvent): ProducerMode {
  if (mode.name === "stopped") return mode;
  if (event.type === "stop") return { name: "stopped" };
  const { limitedQuiet } = mode;
  switch (event.type) {
    case "signal":
      return mode.name === "claiming" ? { ...mode, signalled: true } : { name: "due", external: true, limitedQuiet };
    case "claimStarted":
      if (mode.name !== "due") break;
      return { name: "claiming", external: mode.external, signalled: false, limitedQuiet };
    case "claimEnded": {
      if (mode.name !== "claiming") break;
      const quiet = event.limitedFound === null ? limitedQuiet : !event.limitedFound;
      if (mode.signalled) return { name: "due", external: true, limitedQuiet: quiet };
      if (event.full) return { name: "due", external: false, limitedQuiet: quiet };
      return { name: "waiting", limitedQuiet: quiet };
    }
    case "claimFailed":
      if (mode.name !== "claiming") break;
      // The sweep or the next wake-up tries again.
      return { name: "due", external: true, limitedQuiet };
  }
  throw new Error(`producer: event "${event.type}" is not allowed in mode "${mode.name}"`);
}

/** Whether a freed slot should start another claim (more work may be waiting). */
export function wantsMore(mode: ProducerMode): boolean {
  return mode.name === "due" || (mode.name === "claiming" && mode.signalled);
}

/** Whether the claim about to start from this mode should count the limited tasks (see limitedQuiet). */
export function triesLimited(mode: Extract<ProducerMode, { name: "due" }>): boolean {
  return !mode.limitedQuiet || mode.external;
}
