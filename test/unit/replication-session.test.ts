import { EventEmitter } from "node:events";
import type { LogicalReplicationService } from "pg-logical-replication";
import { ReplicationSession } from "../../src/runtime/table-changes/replication-session";
import type { DecodedTransaction } from "../../src/streams/changes";
import { silentLogger } from "../../src/model/logger";
import { deferred } from "../support/helpers";

/** Stands in for pg-logical-replication: the test emits what the server would send. */
class FakeService extends EventEmitter {
  readonly acknowledged: string[] = [];
  readonly stream = deferred<void>();
  config: unknown;
  subscribe() {
    setImmediate(() => this.emit("start"));
    return this.stream.promise;
  }
  async acknowledge(lsn: string) {
    this.acknowledged.push(lsn);
    return true;
  }
  async destroy() {
    this.stream.resolve();
    return this;
  }
}

const relation = { tag: "relation", relationOid: 1, schema: "public", name: "users", replicaIdentity: "default", keyColumns: [], columns: [] };

function transaction(service: FakeService, commitLsn: string, commitEndLsn: string) {
  service.emit("data", commitLsn, { tag: "begin", commitLsn, commitTime: 0n, xid: 1 });
  service.emit("data", commitLsn, { tag: "insert", relation, new: { id: 1 } });
  service.emit("data", commitLsn, { tag: "commit", flags: 0, commitLsn, commitEndLsn, commitTime: 0n });
}

function startSession(write: (txs: DecodedTransaction[]) => Promise<void>) {
  const service = new FakeService();
  const session = new ReplicationSession({
    clientConfig: {},
    slot: "s",
    publications: ["p"],
    confirmed: 0x100n,
    write,
    logger: silentLogger,
    statusIntervalMs: 60_000,
    createService: (_client, config) => {
      service.config = config;
      return service as unknown as LogicalReplicationService;
    },
  });
  const running = session.run();
  return { service, session, running };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test("acknowledges a transaction only after its write committed, one byte before its end", async () => {
  const written = deferred<void>();
  const batches: DecodedTransaction[][] = [];
  const { service, session, running } = startSession(async (txs) => {
    batches.push(txs);
    await written.promise;
  });
  await tick();
  // The library must never acknowledge by itself.
  expect(service.config).toEqual({ acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } });
  expect(service.acknowledged).toEqual(["0/FF"]); // the starting position, unchanged

  transaction(service, "0/200", "0/230");
  await tick();
  expect(batches).toHaveLength(1);
  service.emit("heartbeat", "0/300", 0, true);
  // Asked to respond while the write is open: the old position again, nothing newer.
  expect(service.acknowledged).toEqual(["0/FF", "0/FF"]);

  written.resolve();
  await tick();
  expect(service.acknowledged.at(-1)).toBe("0/22F");
  session.stop();
  await running;
});

test("transactions arriving during a write are written together next, in order", async () => {
  const first = deferred<void>();
  const batches: string[][] = [];
  const { service, session, running } = startSession(async (txs) => {
    batches.push(txs.map((tx) => tx.commitLsn));
    if (batches.length === 1) await first.promise;
  });
  await tick();
  transaction(service, "0/200", "0/230");
  transaction(service, "0/300", "0/330");
  transaction(service, "0/400", "0/430");
  first.resolve();
  await tick();
  await tick();
  expect(batches).toEqual([["0/200"], ["0/300", "0/400"]]);
  expect(service.acknowledged.at(-1)).toBe("0/42F");
  session.stop();
  await running;
});

test("an idle keepalive moves the position to the server's, so unpublished WAL is not kept", async () => {
  const { service, session, running } = startSession(async () => {});
  await tick();
  service.emit("heartbeat", "0/500", 0, true);
  expect(service.acknowledged.at(-1)).toBe("0/4FF");
  // Inside an open transaction the keepalive position is not safe to confirm.
  service.emit("data", "0/600", { tag: "begin", commitLsn: "0/700", commitTime: 0n, xid: 2 });
  service.emit("heartbeat", "0/650", 0, true);
  expect(service.acknowledged.at(-1)).toBe("0/4FF");
  session.stop();
  await running;
});

test("a failed write ends the session without acknowledging (the slot replays it)", async () => {
  const { service, running } = startSession(async () => {
    throw new Error("connection lost");
  });
  await tick();
  transaction(service, "0/200", "0/230");
  await running;
  expect(service.acknowledged).toEqual(["0/FF"]);
});
