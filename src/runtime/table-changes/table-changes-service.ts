/**
 * Table triggers as an orchestrator duty. At start it checks the triggers of its tasks against the
 * server and the catalog, records them, and makes sure the publications and the permanent slot exist
 * (or drops them when no table trigger is left anywhere). Then it competes for the consumer lock; the
 * winner reads the slot and turns each matching change into one execution, whatever orchestrator runs
 * the task.
 */
import type { Sql } from "postgres";
import type { Subscription } from "rxjs";
import type { Logger } from "../../model/logger";
import { formatLsn, parseLsn } from "../../streams/lsn";
import type { DecodedTransaction } from "../../streams/changes";
import type { OrchestratorService, ServiceContext } from "../service";
import { clientConfigFrom } from "./client-config";
import { tryLead, type Leadership } from "./leadership";
import { candidatesOf, hasUnknownChange, indexTriggers, type Candidate, type RegisteredTrigger, type TriggerIndex } from "./match";
import {
  PUBLICATIONS,
  catalogProblems,
  dropPlumbingIfUnused,
  ensureSlot,
  recreateSlot,
  loadTableTriggers,
  readReplicationSettings,
  replicationProblems,
  slotNameFor,
  syncTableTriggers,
  tableTriggersOf,
  throwProblems,
} from "./registry";
import { ReplicationSession } from "./replication-session";
import { TABLE_TRIGGERS_CHANNEL } from "../../model/channels";
import { filterByWhen, whenStatement } from "./when";

export interface TableChangesSettings {
  /** How often a non-consumer tries to become the consumer (default 2 000 ms). */
  electionRetryMs: number;
  /** Pause before reconnecting a replication connection that ended (default 1 000 ms). */
  reconnectDelayMs: number;
  /** Status reports to the server; keep well below wal_sender_timeout, 60 s by default (default 10 000 ms). */
  statusIntervalMs: number;
}

const DEFAULTS: TableChangesSettings = { electionRetryMs: 2_000, reconnectDelayMs: 1_000, statusIntervalMs: 10_000 };

export class TableChangesService implements OrchestratorService {
  readonly name = "table-changes";
  private readonly settings: TableChangesSettings;
  private sql!: Sql;
  private logger!: Logger;
  private slot = "";
  private stopped = false;
  private loop: Promise<void> | null = null;
  private session: ReplicationSession | null = null;
  private wake: (() => void) | null = null;
  private notifications: Subscription | null = null;
  private triggers: RegisteredTrigger[] = [];
  private index: TriggerIndex = new Map();
  private when = whenStatement([]);

  constructor(settings: Partial<TableChangesSettings> = {}) {
    this.settings = { ...DEFAULTS, ...settings };
  }

  async start(context: ServiceContext): Promise<void> {
    this.sql = context.sql;
    this.logger = context.logger;
    const own = tableTriggersOf(context.tasks);
    const taskKeys = context.tasks.map((task) => task.name);
    if (own.length > 0) {
      throwProblems(replicationProblems(await readReplicationSettings(this.sql)));
      throwProblems(await catalogProblems(this.sql, own));
    }
    this.slot = await slotNameFor(this.sql);
    if (own.length > 0 && (await ensureSlot(this.sql, this.slot))) {
      this.logger.info("table changes: created logical replication slot", { slot: this.slot });
    }
    const [recorded] = await this.sql`select 1 from pgconductor.table_triggers where task_key = any (${taskKeys}::text[]) limit 1`;
    if (own.length > 0 || recorded) {
      for (const table of await syncTableTriggers(this.sql, taskKeys, own)) {
        this.logger.warn(
          `table changes: set REPLICA IDENTITY FULL on ${table.schema_name}.${table.table_name} so updates and deletes carry old values`,
          { table: `${table.schema_name}.${table.table_name}` },
        );
      }
    }
    if (own.length === 0) {
      if (await dropPlumbingIfUnused(this.sql, this.slot)) {
        this.logger.info("table changes: no table triggers left; dropped the replication slot and publications", { slot: this.slot });
      }
      return;
    }
    this.notifications = context.channel(TABLE_TRIGGERS_CHANNEL).subscribe((message) => {
      if (message.type === "notification") void this.reloadTriggers().catch(() => {});
    });
    this.loop = this.consumeWhileLeader(clientConfigFrom(this.sql));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.notifications?.unsubscribe();
    this.session?.stop();
    this.wake?.();
    await this.loop;
  }

  /** Competes for the consumer lock until stopped; while holding it, reads the slot. */
  private async consumeWhileLeader(clientConfig: ReturnType<typeof clientConfigFrom>): Promise<void> {
    while (!this.stopped) {
      let leadership: Leadership | null = null;
      try {
        leadership = await tryLead(clientConfig);
      } catch (error) {
        this.logger.warn("table changes: cannot reach the database for the consumer election", { error });
      }
      if (!leadership) {
        await this.pause(this.settings.electionRetryMs);
        continue;
      }
      this.logger.info("table changes: this orchestrator consumes the replication slot", { slot: this.slot });
      let lost = false;
      let released = false;
      void leadership.lost.then(() => {
        if (released) return;
        lost = true;
        this.session?.stop();
        this.wake?.();
      });
      try {
        while (!this.stopped && !lost) await this.consumeOnce(clientConfig);
      } catch (error) {
        this.logger.error("table changes: consumer failed", { error });
      } finally {
        released = true;
        await this.slotReleased();
        await leadership.release();
      }
      if (!this.stopped) await this.pause(this.settings.reconnectDelayMs);
    }
  }

  /** One replication connection, from the slot's confirmed position to the connection's end. */
  private async consumeOnce(clientConfig: ReturnType<typeof clientConfigFrom>): Promise<void> {
    await this.reloadTriggers();
    if (this.triggers.length === 0) {
      if (await dropPlumbingIfUnused(this.sql, this.slot)) {
        this.logger.info("table changes: no table triggers left; dropped the replication slot and publications", { slot: this.slot });
      }
      await this.pause(this.settings.electionRetryMs);
      return;
    }
    let [slot] = await this.sql<{ confirmed: string | null; wal_status: string | null }[]>`
      select confirmed_flush_lsn::text as confirmed, wal_status from pg_replication_slots where slot_name = ${this.slot}`;
    if (slot?.wal_status === "lost") {
      // max_slot_wal_keep_size invalidated it: the WAL it needed is gone, and so are those changes.
      this.logger.error("table changes: the replication slot was invalidated (max_slot_wal_keep_size); changes since its last confirmed position are lost; recreating it", { slot: this.slot });
      await recreateSlot(this.sql, this.slot);
      [slot] = await this.sql<{ confirmed: string | null; wal_status: string | null }[]>`
        select confirmed_flush_lsn::text as confirmed, wal_status from pg_replication_slots where slot_name = ${this.slot}`;
    }
    if (!slot) {
      // An orchestrator with table triggers creates it at start; a slot invalidated by
      // max_slot_wal_keep_size and dropped by hand is recreated the same way.
      this.logger.warn("table changes: replication slot missing; restart an orchestrator with table triggers to recreate it", { slot: this.slot });
      await this.pause(this.settings.electionRetryMs);
      return;
    }
    this.session = new ReplicationSession({
      clientConfig,
      slot: this.slot,
      publications: PUBLICATIONS,
      confirmed: slot.confirmed ? parseLsn(slot.confirmed) : 0n,
      write: (transactions) => this.write(transactions),
      logger: this.logger,
      statusIntervalMs: await this.statusInterval(),
    });
    if (this.stopped) return;
    await this.session.run();
    this.session = null;
    if (!this.stopped) await this.pause(this.settings.reconnectDelayMs);
  }

  /** The executions of these transactions and the watermark, in one statement. */
  private async write(transactions: DecodedTransaction[]): Promise<void> {
    if (hasUnknownChange(transactions, this.index)) await this.reloadTriggers();
    const candidates = await this.applyWhen(candidatesOf(transactions, this.index));
    if (candidates.length === 0) return;
    const upto = transactions[transactions.length - 1].commitEnd;
    await this.sql`
      select pgconductor.record_table_changes(
        ${this.slot}, ${formatLsn(upto)}::pg_lsn,
        ${candidates.map((c) => formatLsn(c.commitEnd))}::text[]::pg_lsn[],
        ${candidates.map((c) => c.trigger.taskKey)}::text[],
        ${candidates.map((c) => c.trigger.queue)}::text[],
        ${candidates.map((c) => JSON.stringify(c.payload))}::text[]::jsonb[],
        ${candidates.map((c) => c.dedupeKey)}::text[],
        ${candidates.map((c) => c.eventName)}::text[])`;
  }

  /** Our status reports must reach the server well within its wal_sender_timeout (0 turns the timeout off). */
  private async statusInterval(): Promise<number> {
    const [row] = await this.sql<{ ms: number }[]>`select setting::int as ms from pg_settings where name = 'wal_sender_timeout'`;
    const timeout = row?.ms ?? 0;
    return timeout > 0 ? Math.max(100, Math.min(this.settings.statusIntervalMs, Math.floor(timeout / 3))) : this.settings.statusIntervalMs;
  }

  /**
   * The server ends the walsender a moment after our connection closes; until then the slot is
   * "active" and cannot be read by the next consumer or dropped. Wait briefly for it.
   */
  private async slotReleased(): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      try {
        const [row] = await this.sql<{ active: boolean }[]>`select active from pg_replication_slots where slot_name = ${this.slot}`;
        if (!row?.active) return;
      } catch {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * One statement decides every `when` of the burst. If a condition fails on some row (say a
   * division by zero), each candidate is decided alone and the failing ones are logged and skipped,
   * so one bad row cannot stop the stream. Any other error (the connection) is thrown: the session
   * ends and the burst is replayed.
   */
  private async applyWhen(candidates: Candidate[]): Promise<Candidate[]> {
    try {
      return await filterByWhen(this.sql, this.when, candidates);
    } catch (error) {
      if (!isConditionError(error)) throw error;
    }
    const kept: Candidate[] = [];
    for (const candidate of candidates) {
      try {
        kept.push(...(await filterByWhen(this.sql, this.when, [candidate])));
      } catch (error) {
        if (!isConditionError(error)) throw error;
        this.logger.error(`table changes: when "${candidate.trigger.when}" failed on a row; the change is skipped for this task`, {
          task: candidate.trigger.taskKey,
          change: candidate.dedupeKey,
          error,
        });
      }
    }
    return kept;
  }

  private async reloadTriggers(): Promise<void> {
    this.triggers = await loadTableTriggers(this.sql);
    this.index = indexTriggers(this.triggers);
    this.when = whenStatement(this.triggers);
    if (this.triggers.length === 0) this.session?.stop();
  }

  private pause(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** Data exceptions (class 22) and errors in the expression itself (class 42): the row or the condition, not the connection. */
function isConditionError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("42"));
}
