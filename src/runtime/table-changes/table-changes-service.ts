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
import { PUBLICATIONS, existingPublications, loadTableTriggers, readSlot, recordTableChanges, recreateSlot, walSenderTimeoutMs } from "../../db/table-triggers";
import { whenStatement } from "../../db/table-trigger-when";
import { applyWhen } from "./apply-when";
import { dropIfUnused, setUpPlumbing, slotReleased } from "./plumbing";
import { clientConfigFrom } from "./client-config";
import { ConsumerHealthTracker, type ConsumerHealth } from "./consumer-health";
import { tryLead, type Leadership } from "./leadership";
import { candidatesOf, hasUnknownChange, indexTriggers, type RegisteredTrigger, type TriggerIndex } from "./match";
import { ReplicationSession } from "./replication-session";
import { TABLE_TRIGGERS_CHANNEL } from "../../model/channels";

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
  private tracker: ConsumerHealthTracker | null = null;

  constructor(settings: Partial<TableChangesSettings> = {}) {
    this.settings = { ...DEFAULTS, ...settings };
  }

  /** The consumer's mode and its current failure streak (cause, fix, count), for the orchestrator's health. */
  get health(): ConsumerHealth {
    return this.tracker?.health ?? { mode: "idle", failure: null };
  }

  async start(context: ServiceContext): Promise<void> {
    this.sql = context.sql;
    this.logger = context.logger;
    this.tracker = new ConsumerHealthTracker(this.logger, () => this.slot);
    const { slot, consume } = await setUpPlumbing(this.sql, this.logger, context.tasks);
    this.slot = slot;
    if (!consume) return;
    this.notifications = context.channel(TABLE_TRIGGERS_CHANNEL).subscribe((message) => {
      if (message.type === "notification") void this.reloadTriggers().catch(() => {});
    });
    // Replication and the consumer's session lock need a session: the direct URL when there is one.
    this.loop = this.consumeWhileLeader(clientConfigFrom(context.sessionSql ?? this.sql));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.notifications?.unsubscribe();
    this.session?.stop();
    this.wake?.();
    await this.loop;
    this.tracker?.stopped();
  }

  /** Competes for the consumer lock until stopped; while holding it, reads the slot. */
  private async consumeWhileLeader(clientConfig: ReturnType<typeof clientConfigFrom>): Promise<void> {
    while (!this.stopped) {
      let leadership: Leadership | null = null;
      try {
        leadership = await tryLead(clientConfig);
      } catch (error) {
        this.tracker!.failed(error);
        await this.pause(this.tracker!.retryDelay(this.settings.electionRetryMs));
        continue;
      }
      if (!leadership) {
        this.tracker!.standby();
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
        this.tracker!.failed(error);
      } finally {
        released = true;
        await slotReleased(this.sql, this.slot);
        await leadership.release();
      }
      if (!this.stopped) await this.pause(this.tracker!.retryDelay(this.settings.reconnectDelayMs));
    }
  }

  /** One replication connection, from the slot's confirmed position to the connection's end. */
  private async consumeOnce(clientConfig: ReturnType<typeof clientConfigFrom>): Promise<void> {
    await this.reloadTriggers();
    if (this.triggers.length === 0) {
      await dropIfUnused(this.sql, this.logger, this.slot);
      this.tracker!.standby();
      await this.pause(this.settings.electionRetryMs);
      return;
    }
    let slot = await readSlot(this.sql, this.slot);
    if (slot?.walStatus === "lost") {
      // max_slot_wal_keep_size invalidated it: the WAL it needed is gone, and so are those changes.
      this.logger.error("table changes: the replication slot was invalidated (max_slot_wal_keep_size); changes since its last confirmed position are lost; recreating it", { slot: this.slot });
      await recreateSlot(this.sql, this.slot);
      slot = await readSlot(this.sql, this.slot);
    }
    if (slot && slot.plugin !== "pgoutput") {
      // Not ours to drop: something else made a slot of our name.
      this.tracker!.failed(new Error(`slot "${this.slot}" uses plugin ${slot.plugin ?? "none (physical)"}`), {
        cause: `the replication slot "${this.slot}" was created with ${slot.plugin ? `the output plugin ${slot.plugin}` : "no output plugin (a physical slot)"}, not pgoutput`,
        fix: `drop it (select pg_drop_replication_slot('${this.slot}')) and restart an orchestrator that runs a task with a table trigger`,
      });
      await this.pause(this.tracker!.retryDelay(this.settings.electionRetryMs));
      return;
    }
    const publications = await existingPublications(this.sql);
    if (!slot || publications.length === 0) {
      // An orchestrator with table triggers creates both at start (a slot dropped by hand, too).
      const missing = !slot ? `the replication slot "${this.slot}"` : `the publications ${PUBLICATIONS.join(", ")}`;
      this.tracker!.failed(new Error(`${missing} missing`), {
        cause: `${missing} does not exist, so no table change is read`,
        fix: "restart an orchestrator that runs a task with a table trigger: it creates them",
      });
      await this.pause(this.settings.electionRetryMs);
      return;
    }
    this.session = new ReplicationSession({
      clientConfig,
      slot: this.slot,
      publications,
      confirmed: slot.confirmed ? parseLsn(slot.confirmed) : 0n,
      write: (transactions) => this.write(transactions),
      logger: this.logger,
      statusIntervalMs: await this.statusInterval(),
      onHealthy: () => this.tracker!.consuming(),
    });
    if (this.stopped) return;
    const error = await this.session.run();
    this.session = null;
    if (error && !this.stopped) await this.sessionFailed(error, publications);
    if (!this.stopped) await this.pause(error ? this.tracker!.retryDelay(this.settings.reconnectDelayMs) : this.settings.reconnectDelayMs);
  }

  /**
   * A stream that fails on a publication we named although it exists comes from a slot created
   * before it (an older release created the slot first): PostgreSQL 15–17 cannot decode the changes
   * in between and would fail on them forever. The only way on is a slot that starts now.
   */
  private async sessionFailed(error: unknown, named: readonly string[]): Promise<void> {
    const missing = /publication "([^"]+)" does not exist/.exec(error instanceof Error ? error.message : "")?.[1];
    if (!missing || !named.includes(missing) || !(await existingPublications(this.sql)).includes(missing)) {
      this.tracker!.failed(error);
      return;
    }
    this.tracker!.failed(error, {
      cause: `the replication slot "${this.slot}" was created before publication "${missing}", and PostgreSQL before 18 cannot decode the changes made in between`,
      fix: "recreating the slot now (changes since its last confirmed position are not delivered); nothing else to do",
    });
    await slotReleased(this.sql, this.slot);
    await recreateSlot(this.sql, this.slot);
  }

  /** The executions of these transactions and the watermark, in one statement. */
  private async write(transactions: DecodedTransaction[]): Promise<void> {
    if (hasUnknownChange(transactions, this.index)) await this.reloadTriggers();
    const candidates = await applyWhen(this.sql, this.when, candidatesOf(transactions, this.index), this.logger);
    if (candidates.length === 0) return;
    const upto = transactions[transactions.length - 1].commitEnd;
    await recordTableChanges(
      this.sql,
      this.slot,
      formatLsn(upto),
      candidates.map((c) => ({ commitEnd: formatLsn(c.commitEnd), taskKey: c.trigger.taskKey, queue: c.trigger.queue, payload: c.payload, dedupeKey: c.dedupeKey, eventName: c.eventName })),
    );
  }

  /** Our status reports must reach the server well within its wal_sender_timeout (0 turns the timeout off). */
  private async statusInterval(): Promise<number> {
    const timeout = await walSenderTimeoutMs(this.sql);
    return timeout > 0 ? Math.max(100, Math.min(this.settings.statusIntervalMs, Math.floor(timeout / 3))) : this.settings.statusIntervalMs;
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
