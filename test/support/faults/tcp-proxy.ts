/**
 * A TCP proxy in front of PostgreSQL that breaks connections the way networks do:
 * - `cut()`: every open pair of sockets is reset at once (the client reads ECONNRESET), as when a
 *   load balancer or NAT drops its state; `cutEvery(ms)` repeats that until `stopCutting()`;
 * - `blackhole(filter?)`: matching connections stop forwarding in both directions while both
 *   sockets stay open: a half-open connection that neither side notices on its own;
 * - `stall(filter?)`: matching connections stop reading (both sockets paused): real TCP backpressure,
 *   as from a process that stopped reading its socket; the server's sends block once buffers fill;
 * - `refuse()`: new connections are reset at once (the server looks down), until `resume()`;
 * - `resume()`: blackholed connections forward again (what was held back is delivered) and new
 *   connections are accepted.
 * - `cutOnReplyTo(pattern, times)`: the next `times` statements matching `pattern` reach the server,
 *   but the moment its reply comes back every connection is reset instead: the statement committed
 *   and the client never learns it (a claim whose reply is lost).
 * Each connection remembers the text its client sent (bounded), so a test can pick out, say, the
 * LISTEN connection: `proxy.blackhole((c) => c.clientText.includes("listen"))`. Statements are read
 * from the protocol (simple queries, and prepared ones by the name their Parse gave them).
 */
import { createServer, Socket, type AddressInfo, type Server } from "node:net";

export interface ProxiedConnection {
  readonly id: number;
  /** Lower-cased text of what the client sent so far (the first 64 kB). */
  readonly clientText: string;
  readonly blackholed: boolean;
  readonly stalled: boolean;
}

export interface TcpProxy {
  /** The port clients connect to (on 127.0.0.1). */
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string;
  readonly connections: readonly ProxiedConnection[];
  /** Connections accepted since start (for "it reconnected" checks). */
  readonly accepted: number;
  /** How many connections the cuts reset so far. */
  readonly cutCount: number;
  /** Resets the matching open connections (all by default); returns how many were cut. */
  cut(filter?: (connection: ProxiedConnection) => boolean): number;
  /** Cuts every open connection every `ms` until stopCutting(). */
  cutEvery(ms: number): void;
  stopCutting(): void;
  /** Resets every connection when the reply to one of the next `times` statements matching `pattern` arrives. */
  cutOnReplyTo(pattern: RegExp, times: number): void;
  /** How many replies cutOnReplyTo has swallowed. */
  readonly repliesCut: number;
  /** Stops forwarding on the matching open connections (all by default) without closing them. */
  blackhole(filter?: (connection: ProxiedConnection) => boolean): number;
  /** Stops reading the matching connections' sockets (TCP backpressure) until resume(). */
  stall(filter?: (connection: ProxiedConnection) => boolean): number;
  /** New connections are reset on arrival. */
  refuse(): void;
  /** Forwards again: blackholed connections are released, new connections accepted. */
  resume(): void;
  close(): Promise<void>;
}

const TEXT_LIMIT = 64 * 1024;

interface Pair extends ProxiedConnection {
  id: number;
  clientText: string;
  blackholed: boolean;
  stalled: boolean;
  client: Socket;
  server: Socket;
  /** Bytes held back while blackholed, per direction. */
  toServer: Buffer[];
  toClient: Buffer[];
  /** Frontend protocol reader state. */
  pending: Buffer;
  startupDone: boolean;
  statements: Map<string, string>;
  /** A statement matching the cut rule was sent: reset everything when the server answers. */
  cutOnNextReply: boolean;
}

/**
 * Calls `onStatement` with the SQL of each statement the client sends: a simple Query, or the
 * statement a Bind names (its text came with the Parse that named it).
 */
function readFrontend(pair: Pair, chunk: Buffer, onStatement: (text: string) => void): void {
  pair.pending = pair.pending.length ? Buffer.concat([pair.pending, chunk]) : chunk;
  for (;;) {
    const buffer = pair.pending;
    if (!pair.startupDone) {
      // The startup packet (and an SSLRequest before it) has no type byte: int32 length, int32 code.
      if (buffer.length < 8) return;
      const length = buffer.readInt32BE(0);
      if (buffer.length < length) return;
      const code = buffer.readInt32BE(4);
      pair.pending = buffer.subarray(length);
      if (code !== 80877103 && code !== 80877104) pair.startupDone = true; // SSLRequest / GSSENCRequest
      continue;
    }
    if (buffer.length < 5) return;
    const type = String.fromCharCode(buffer[0]);
    const length = buffer.readInt32BE(1);
    if (buffer.length < 1 + length) return;
    const body = buffer.subarray(5, 1 + length);
    pair.pending = buffer.subarray(1 + length);
    const cstrings = () => body.toString("utf8").split("\0");
    if (type === "Q") onStatement(cstrings()[0]);
    else if (type === "P") {
      const [name, text] = cstrings();
      pair.statements.set(name, text);
      if (name === "") onStatement(text);
    } else if (type === "B") {
      const [, statement] = cstrings();
      if (statement !== "") onStatement(pair.statements.get(statement) ?? "");
    }
  }
}

/** `url` with its host and port replaced by 127.0.0.1:`port` (a proxy or pooler in front of it). */
export function urlThroughPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = "127.0.0.1";
  parsed.port = String(port);
  return parsed.toString();
}

/** A proxy in front of the server of a connection string. */
export function startTcpProxyTo(url: string): Promise<TcpProxy> {
  const target = new URL(url);
  return startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let nextId = 1;
  let accepted = 0;
  let cutCount = 0;
  let refusing = false;
  let cutTimer: NodeJS.Timeout | null = null;
  let replyRule: { pattern: RegExp; left: number } | null = null;
  let repliesCut = 0;

  const destroyPair = (pair: Pair) => {
    pairs.delete(pair);
    // resetAndDestroy sends RST (the peer sees ECONNRESET) instead of a polite FIN.
    for (const socket of [pair.client, pair.server]) {
      if (socket.destroyed) continue;
      if (typeof socket.resetAndDestroy === "function" && socket.readyState !== "opening") socket.resetAndDestroy();
      else socket.destroy();
    }
  };

  const server: Server = createServer((client) => {
    accepted += 1;
    if (refusing) {
      client.on("error", () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = new Socket();
    const pair: Pair = {
      id: nextId++, clientText: "", blackholed: false, stalled: false, client, server: upstream, toServer: [], toClient: [],
      pending: Buffer.alloc(0), startupDone: false, statements: new Map(), cutOnNextReply: false,
    };
    pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on("data", (chunk: Buffer) => {
      if (pair.clientText.length < TEXT_LIMIT) pair.clientText += chunk.toString("latin1").toLowerCase().slice(0, TEXT_LIMIT - pair.clientText.length);
      readFrontend(pair, chunk, (text) => {
        if (replyRule && replyRule.left > 0 && replyRule.pattern.test(text)) {
          replyRule.left -= 1;
          pair.cutOnNextReply = true;
        }
      });
      if (pair.blackholed) pair.toServer.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (pair.cutOnNextReply) {
        repliesCut += 1;
        return proxy.cut();
      }
      if (pair.blackholed) pair.toClient.push(chunk);
      else client.write(chunk);
    });
    // Either side ending or failing takes the other down with it, as a real path would.
    const close = () => destroyPair(pair);
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
    upstream.connect(target.port, target.host);
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  const matching = (filter?: (connection: ProxiedConnection) => boolean) => [...pairs].filter((pair) => !filter || filter(pair));

  const proxy: TcpProxy = {
    port,
    urlFor: (url: string) => urlThroughPort(url, port),
    get connections() {
      return [...pairs];
    },
    get accepted() {
      return accepted;
    },
    get cutCount() {
      return cutCount;
    },
    get repliesCut() {
      return repliesCut;
    },
    cutOnReplyTo(pattern: RegExp, times: number) {
      replyRule = { pattern, left: times };
    },
    cut(filter) {
      const victims = matching(filter);
      victims.forEach(destroyPair);
      cutCount += victims.length;
      return victims.length;
    },
    cutEvery(ms: number) {
      proxy.stopCutting();
      cutTimer = setInterval(() => proxy.cut(), ms);
    },
    stopCutting() {
      if (cutTimer) clearInterval(cutTimer);
      cutTimer = null;
    },
    blackhole(filter) {
      const victims = matching(filter);
      for (const pair of victims) pair.blackholed = true;
      return victims.length;
    },
    stall(filter) {
      const victims = matching(filter);
      for (const pair of victims) {
        pair.stalled = true;
        pair.client.pause();
        pair.server.pause();
      }
      return victims.length;
    },
    refuse() {
      refusing = true;
    },
    resume() {
      refusing = false;
      for (const pair of pairs) {
        if (pair.stalled) {
          pair.stalled = false;
          pair.client.resume();
          pair.server.resume();
        }
        if (!pair.blackholed) continue;
        pair.blackholed = false;
        for (const chunk of pair.toServer.splice(0)) pair.server.write(chunk);
        for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
      }
    },
    async close() {
      proxy.stopCutting();
      [...pairs].forEach(destroyPair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
