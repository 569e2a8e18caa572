/**
 * One connection's worth of reading the slot with pg-logical-replication (pgoutput). A session ends
 * when its connection does; the caller starts a new one (a new LogicalReplicationService each time:
 * subscribing again on the same instance would restart at the last *received* position).
 *
 * Acknowledgement is ours alone: `auto: false` and `timeoutSeconds: 0` keep the library from
 * confirming what was merely received. A position is confirmed only after `write` has committed the
 * executions of every transaction before it, so a crash replays instead of losing. Our own status
 * timer answers the server below wal_sender_timeout, also while the socket is paused for backpressure.
 */
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from "pg-logical-replication";
import type { ClientConfig } from "pg";
import type { Logger } from "../../model/logger";
import { createTransactionAssembler, type DecodedTransaction } from "../../streams/changes";
import { acknowledgementFor, parseLsn } from "../../streams/lsn";

export interface SessionOptions {
  clientConfig: ClientConfig;
  slot: string;
  publications: readonly string[];
  /** Everything before this position is already done (the slot's confirmed_flush_lsn). */
  confirmed: bigint;
  /** Writes the executions of these transactions; resolves once they have committed. */
  write(transactions: DecodedTransaction[]): Promise<void>;
  logger: Logger;
  /** How often we report our position to the server (keep it well below wal_sender_timeout). */
  statusIntervalMs: number;
  /** Called when the stream proves to work: a write committed or the server's keepalive arrived. */
  onHealthy?(): void;
  /** Most transactions written in one statement. */
  maxBatch?: number;
  /** Above this many unwritten changes, stop reading the socket until the writer catches up. */
  highWaterMark?: number;
  /** Longest wait for the replication connection to close before its socket is destroyed (default 5 000 ms). */
  closeTimeoutMs?: number;
  /** For tests: stands in for pg-logical-replication. */
  createService?: (clientConfig: ClientConfig, config: ConstructorParameters<typeof LogicalReplicationService>[1]) => LogicalReplicationService;
}

export class ReplicationSession {
  private readonly service: LogicalReplicationService;
  private readonly assembler = createTransactionAssembler();
  private readonly ready: DecodedTransaction[] = [];
  private unwritten = 0;
  private paused = false;
  private writing: Promise<void> | null = null;
  private confirmed: bigint;
  private timer: ReturnType<typeof setInterval> | null = null;
  private ended = false;
  private endError: unknown = null;
  private endSession!: () => void;
  private readonly done = new Promise<void>((resolve) => (this.endSession = resolve));

  constructor(private readonly options: SessionOptions) {
    this.confirmed = options.confirmed;
    const create = options.createService ?? ((clientConfig, config) => new LogicalReplicationService(clientConfig, config));
    this.service = create(options.clientConfig, {
      acknowledge: { auto: false, timeoutSeconds: 0 },
      flowControl: { enabled: false },
    });
  }

  /** Streams until the connection ends or stop() is called; resolves then with the error that ended it (null for none), never rejects. */
  async run(): Promise<unknown> {
    const { service, options } = this;
    service.on("data", (_lsn: string, message: Pgoutput.Message) => this.onMessage(message));
    service.on("heartbeat", (lsn: string, _time: number, shouldRespond: boolean) => this.onKeepalive(lsn, shouldRespond));
    service.on("error", (error: Error) => this.end(error));
    service.on("start", () => {
      this.timer = setInterval(() => this.report(), options.statusIntervalMs);
      this.timer.unref?.();
      this.report();
    });
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [...options.publications] });
    service.subscribe(plugin, options.slot).then(
      () => this.end(null),
      (error: unknown) => this.end(error),
    );
    await this.done;
    await this.writing?.catch(() => {});
    return this.endError;
  }

  stop(): void {
    this.end(null);
  }

  private end(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    // The caller decides how loudly to report it (a repeating error is logged once).
    this.endError = error ?? null;
    if (error) this.options.logger.debug("table changes: replication connection ended", { slot: this.options.slot, error });
    if (this.timer) clearInterval(this.timer);
    this.ready.length = 0;
    // A connection that does not answer the goodbye must not keep stop() waiting.
    const timer = setTimeout(() => {
      this.options.logger.debug("table changes: the replication connection did not close; destroying its socket", { slot: this.options.slot });
      socketOf(this.service)?.destroy?.();
      this.endSession();
    }, this.options.closeTimeoutMs ?? 5_000);
    timer.unref?.();
    this.service
      .destroy()
      .catch(() => {})
      .finally(() => {
        clearTimeout(timer);
        this.endSession();
      });
  }

  private onMessage(message: Pgoutput.Message): void {
    if (this.ended) return;
    const transaction = this.assembler.push(message);
    if (!transaction) return;
    this.ready.push(transaction);
    this.unwritten += transaction.changes.length;
    if (!this.paused && this.unwritten > (this.options.highWaterMark ?? 20_000)) this.setPaused(true);
    this.writing ??= this.writeAll().finally(() => (this.writing = null));
  }

  /** Writes what is ready, burst by burst, one statement each, then confirms it. */
  private async writeAll(): Promise<void> {
    while (this.ready.length > 0 && !this.ended) {
      const batch = this.ready.splice(0, this.options.maxBatch ?? 500);
      try {
        await this.options.write(batch);
      } catch (error) {
        // Nothing of this batch was confirmed: a new session replays it from the slot.
        this.end(error);
        return;
      }
      this.unwritten -= batch.reduce((n, tx) => n + tx.changes.length, 0);
      const end = batch[batch.length - 1].commitEnd;
      if (end > this.confirmed) this.confirmed = end;
      this.report();
      this.options.onHealthy?.();
      if (this.paused && this.unwritten < (this.options.highWaterMark ?? 20_000) / 2) this.setPaused(false);
    }
  }

  /**
   * A keepalive carries the server's send position. With nothing received left unwritten, every
   * transaction that committed before it has been written, so it is safe to confirm: otherwise WAL
   * of tables we do not publish would be kept until the next change we do.
   */
  private onKeepalive(lsn: string, shouldRespond: boolean): void {
    if (this.ended) return;
    this.options.onHealthy?.();
    if (this.ready.length === 0 && !this.writing && !this.assembler.inTransaction) {
      const position = parseLsn(lsn);
      if (position > this.confirmed) this.confirmed = position;
    }
    if (shouldRespond) this.report();
  }

  private report(): void {
    if (this.ended) return;
    this.service.acknowledge(acknowledgementFor(this.confirmed)).catch(() => {});
  }

  /** The library's own flow control would stop answering keepalives; pausing the socket does not stop our status timer. */
  private setPaused(paused: boolean): void {
    this.paused = paused;
    const stream = socketOf(this.service);
    if (paused) stream?.pause?.();
    else stream?.resume?.();
  }
}

/** The library keeps its pg connection's socket private; pausing and destroying need it. */
function socketOf(service: LogicalReplicationService): { pause?(): void; resume?(): void; destroy?(): void } | undefined {
  return (service as unknown as { _connection?: { stream?: { pause?(): void; resume?(): void; destroy?(): void } } })._connection?.stream;
}
