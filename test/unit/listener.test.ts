import { Listener } from "../../src/streams/listener";
import type { ListenConnection, ListenHandlers } from "../../src/streams/listen-connection";
import type { ChannelMessage } from "../../src/streams/notifications";

/** Connections the listener opened, each a stand-in whose LISTEN the test answers. */
function fakeServer() {
  const opened: { handlers: ListenHandlers; statements: string[]; ended: boolean; answer: (error?: Error) => void }[] = [];
  const open = (handlers: ListenHandlers): ListenConnection => {
    const connection = { handlers, statements: [] as string[], ended: false, answer: (_error?: Error) => {} };
    opened.push(connection);
    return {
      run(statement) {
        connection.statements.push(statement);
        if (!statement.startsWith("listen")) return Promise.resolve();
        return new Promise((resolve, reject) => (connection.answer = (error) => (error ? reject(error) : resolve(undefined))));
      },
      async end() {
        connection.ended = true;
      },
    };
  };
  return { opened, open };
}

function logs() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  return { lines, logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test("a failed LISTEN is retried on a new connection; subscribers never see an error and get 'listening' each time", async () => {
  const server = fakeServer();
  const { lines, logger } = logs();
  const notifyCalls: string[] = [];
  const listener = new Listener({ logger, open: server.open, notify: async (_c, p) => void notifyCalls.push(p), pingIntervalMs: 0 });
  const seen: (ChannelMessage | { type: "error" })[] = [];
  const subscription = listener.channel("work").subscribe({ next: (m) => seen.push(m), error: () => seen.push({ type: "error" }) });
  expect(server.opened).toHaveLength(1);
  server.opened[0].answer(new Error("read ECONNRESET"));
  await jest.advanceTimersByTimeAsync(100);
  expect(server.opened).toHaveLength(2);
  expect(server.opened[0].ended).toBe(true);
  server.opened[1].answer();
  await jest.advanceTimersByTimeAsync(0);
  expect(listener.state).toBe("listening");
  server.opened[1].handlers.notify("work", "q|1");
  server.opened[1].handlers.closed(); // terminated
  await jest.advanceTimersByTimeAsync(100);
  server.opened[2].answer();
  await jest.advanceTimersByTimeAsync(0);
  expect(seen).toEqual([{ type: "listening" }, { type: "notification", payload: "q|1" }, { type: "listening" }]);
  // One warning for the first outage, one "back" line; the second outage is a new one.
  expect(lines.map((l) => l.level)).toEqual(["warn", "info", "warn", "info"]);
  subscription.unsubscribe();
  await listener.close();
});

test("a ping that is not delivered replaces the connection; a delivered one keeps it", async () => {
  const server = fakeServer();
  const { lines, logger } = logs();
  let deliverPings = true;
  let listener!: Listener;
  const notify = async (channel: string, payload: string) => {
    if (deliverPings) server.opened.at(-1)!.handlers.notify(channel, payload);
  };
  listener = new Listener({ logger, open: server.open, notify, pingIntervalMs: 1_000, pingTimeoutMs: 500 });
  const subscription = listener.channel("work").subscribe();
  server.opened[0].answer();
  await jest.advanceTimersByTimeAsync(3_000); // three delivered pings
  expect(server.opened).toHaveLength(1);
  deliverPings = false;
  await jest.advanceTimersByTimeAsync(1_500); // the next ping is missed
  expect(listener.pingMisses).toBe(1);
  await jest.advanceTimersByTimeAsync(100);
  expect(server.opened).toHaveLength(2);
  expect(server.opened[1].statements[0]).toMatch(/^listen "pgconductor_ping_[0-9a-f]+"; listen "work"$/);
  expect(lines.filter((l) => l.level === "warn").map((l) => l.message)).toEqual([
    "the LISTEN connection did not deliver its own ping within 500 ms (a half-open connection, or a pooler that drops LISTEN); reconnecting (push resumes once it listens again)",
  ]);
  subscription.unsubscribe();
  await listener.close();
});

test("a channel subscribed while listening is LISTENed on the same connection and announced; the last unsubscribe UNLISTENs", async () => {
  const server = fakeServer();
  const listener = new Listener({ logger: logs().logger, open: server.open, notify: async () => {}, pingIntervalMs: 0 });
  const first = listener.channel("a").subscribe();
  server.opened[0].answer();
  await jest.advanceTimersByTimeAsync(0);
  const seen: ChannelMessage[] = [];
  const second = listener.channel("b").subscribe((m) => seen.push(m));
  server.opened[0].answer();
  await jest.advanceTimersByTimeAsync(0);
  expect(seen).toEqual([{ type: "listening" }]);
  second.unsubscribe();
  expect(server.opened[0].statements.slice(1)).toEqual(['listen "b"', 'unlisten "b"']);
  first.unsubscribe();
  await listener.close();
});
