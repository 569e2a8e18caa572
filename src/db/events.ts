/** Typed calls of the custom-event functions in sql/003_cron_and_events.sql. */
import type { Db } from "./db";
import type { EventSubscription } from "../model/trigger-specs";

export type { EventSubscription };

const fieldList = (fields: readonly string[] | null) => (fields === null ? null : fields.join(","));

export async function syncEventSubscriptions(db: Db, taskKeys: readonly string[], subscriptions: readonly EventSubscription[]) {
  await db`select pgconductor.sync_event_subscriptions(
    ${taskKeys as string[]}::text[],
    ${subscriptions.map((s) => s.event)}::text[], ${subscriptions.map((s) => s.taskKey)}::text[],
    ${subscriptions.map((s) => s.queue)}::text[], ${subscriptions.map((s) => fieldList(s.fields))}::text[])`;
}

/** Writes the event and one execution per subscriber in one statement; returns the event id. */
export async function emitEvent(db: Db, name: string, payload: unknown, local: readonly EventSubscription[]): Promise<string> {
  const [row] = await db<{ id: string }[]>`
    select pgconductor.emit(${name}, ${payload === undefined ? null : JSON.stringify(payload)}::text::jsonb,
      ${local.map((s) => s.taskKey)}::text[], ${local.map((s) => s.queue)}::text[],
      ${local.map((s) => fieldList(s.fields))}::text[]) as id`;
  return row.id;
}
