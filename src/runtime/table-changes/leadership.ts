/**
 * One consumer per slot: the orchestrator holding a session advisory lock on a connection of its own
 * reads the slot. If that process dies its connection closes and the lock is free for the next try.
 */
import { Client, type ClientConfig } from "pg";

import { REPLICATION_CONSUMER_LOCK as CONSUMER_LOCK } from "../../model/locks";

const RELEASE_TIMEOUT_MS = 5_000;

export interface Leadership {
  /** Resolves when the lock connection is lost (the lock may then be someone else's). */
  readonly lost: Promise<void>;
  release(): Promise<void>;
}

/** Tries once; null when another orchestrator holds the lock. */
export async function tryLead(clientConfig: ClientConfig): Promise<Leadership | null> {
  const client = new Client({ ...clientConfig, application_name: "pgconductor-changes-lock" });
  let markLost!: () => void;
  const lost = new Promise<void>((resolve) => (markLost = resolve));
  client.on("error", () => markLost());
  client.on("end", () => markLost());
  await client.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock($1) as locked", [CONSUMER_LOCK]);
    if (!rows[0].locked) {
      await client.end();
      return null;
    }
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return {
    lost,
    async release() {
      // Closing the session releases the lock; a connection that does not close is cut.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cut = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          (client as unknown as { connection?: { stream?: { destroy?(): void } } }).connection?.stream?.destroy?.();
          resolve();
        }, RELEASE_TIMEOUT_MS);
        timer.unref?.();
      });
      await Promise.race([client.end().catch(() => {}), cut]);
      clearTimeout(timer);
    },
  };
}
