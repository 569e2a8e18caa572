import type { Pgoutput } from "pg-logical-replication";
import postgres from "postgres";
import { acknowledgementFor, formatLsn, parseLsn } from "../../src/streams/lsn";
import { createTransactionAssembler, withUnchangedToast } from "../../src/streams/changes";
import { candidatesOf, hasUnknownChange, indexTriggers, type RegisteredTrigger } from "../../src/runtime/table-changes/match";
import { replicationProblems } from "../../src/runtime/table-changes/checks";
import { clientConfigFrom } from "../../src/runtime/table-changes/client-config";
import { whenStatement } from "../../src/db/table-trigger-when";

const relation = (name: string, int8: string[] = []): Pgoutput.MessageRelation => ({
  tag: "relation",
  relationOid: 1,
  schema: "public",
  name,
  replicaIdentity: "full",
  keyColumns: ["id"],
  columns: ["id", "email", "body", ...int8].map((column) => ({
    name: column,
    flags: 0,
    typeOid: column === "id" || int8.includes(column) ? 20 : 25,
    typeMod: -1,
    typeSchema: null,
    typeName: null,
    parser: (raw: unknown) => raw,
  })),
});

describe("LSNs", () => {
  test("parse and format round-trip, across the 32-bit boundary", () => {
    expect(parseLsn("16/B374D848")).toBe((0x16n << 32n) + 0xb374d848n);
    expect(formatLsn(parseLsn("16/B374D848"))).toBe("16/B374D848");
    expect(formatLsn(parseLsn("0/0"))).toBe("0/0");
  });

  test("the acknowledgement is one less, because the library adds one", () => {
    expect(acknowledgementFor(parseLsn("1/0"))).toBe("0/FFFFFFFF");
    expect(acknowledgementFor(parseLsn("0/1750010"))).toBe("0/175000F");
    expect(acknowledgementFor(0n)).toBe("0/0");
  });
});

describe("transaction assembler", () => {
  test("groups changes between begin and commit, numbering them, and converts int8", () => {
    const assembler = createTransactionAssembler();
    const users = relation("users");
    expect(assembler.push({ tag: "begin", commitLsn: "0/100", commitTime: 0n, xid: 7 })).toBeNull();
    expect(assembler.inTransaction).toBe(true);
    assembler.push({ tag: "insert", relation: users, new: { id: "1", email: "a", body: "x" } });
    assembler.push({ tag: "update", relation: users, key: null, old: { id: "1", email: "a", body: "x" }, new: { id: "1", email: "b", body: undefined } });
    assembler.push({ tag: "delete", relation: users, key: null, old: { id: "9007199254740993", email: "c", body: null } });
    const tx = assembler.push({ tag: "commit", flags: 0, commitLsn: "0/100", commitEndLsn: "0/130", commitTime: 0n });
    expect(assembler.inTransaction).toBe(false);
    expect(tx).toEqual({
      commitLsn: "0/100",
      commitEnd: 0x130n,
      changes: [
        { index: 0, schema: "public", table: "users", operation: "insert", old: null, new: { id: 1, email: "a", body: "x" } },
        // The unchanged TOASTed body comes from the old row.
        { index: 1, schema: "public", table: "users", operation: "update", old: { id: 1, email: "a", body: "x" }, new: { id: 1, email: "b", body: "x" } },
        // Too big for a JavaScript number: stays a string.
        { index: 2, schema: "public", table: "users", operation: "delete", old: { id: "9007199254740993", email: "c", body: null }, new: null },
      ],
    });
  });

  test("a commit without a begin (a session that started mid-way) yields nothing", () => {
    const assembler = createTransactionAssembler();
    expect(assembler.push({ tag: "commit", flags: 0, commitLsn: "0/1", commitEndLsn: "0/2", commitTime: 0n })).toBeNull();
  });

  test("unchanged TOAST values without an old row stay undefined", () => {
    expect(withUnchangedToast({ a: 1, b: undefined }, null)).toEqual({ a: 1, b: undefined });
  });
});

describe("matching changes to triggers", () => {
  const trigger = (overrides: Partial<RegisteredTrigger>): RegisteredTrigger => ({
    taskKey: "t",
    queue: "default",
    position: 0,
    schema: "public",
    table: "users",
    operation: "insert",
    columns: ["id"],
    when: null,
    ...overrides,
  });
  const tx = (changes: any[]) => ({ commitLsn: "0/AB", commitEnd: 0xc0n, changes });

  test("one candidate per change and matching trigger, with the selected columns and a WAL dedupe key", () => {
    const index = indexTriggers([
      trigger({ taskKey: "welcome", columns: ["id", "email"] }),
      trigger({ taskKey: "audit", operation: "update", columns: ["email"], queue: "audit" }),
    ]);
    const candidates = candidatesOf(
      [tx([
        { index: 0, schema: "public", table: "users", operation: "insert", old: null, new: { id: 1, email: "a", secret: "s" } },
        { index: 1, schema: "public", table: "users", operation: "update", old: { id: 1, email: "a" }, new: { id: 1, email: "b" } },
        { index: 2, schema: "public", table: "users", operation: "delete", old: { id: 1 }, new: null },
      ])],
      index,
    );
    expect(candidates.map((c) => [c.trigger.taskKey, c.dedupeKey, c.eventName, c.payload])).toEqual([
      ["welcome", "wal:0/AB:0", "public.users.insert", { tg_op: "INSERT", old: null, new: { id: 1, email: "a" } }],
      ["audit", "wal:0/AB:1", "public.users.update", { tg_op: "UPDATE", old: { email: "a" }, new: { email: "b" } }],
    ]);
    expect(candidates[0].commitEnd).toBe(0xc0n);
  });

  test("a change no trigger covers asks for a reload of the triggers", () => {
    const index = indexTriggers([trigger({})]);
    expect(hasUnknownChange([tx([{ index: 0, schema: "public", table: "users", operation: "insert", old: null, new: {} }])], index)).toBe(false);
    expect(hasUnknownChange([tx([{ index: 0, schema: "public", table: "orders", operation: "insert", old: null, new: {} }])], index)).toBe(true);
  });

  test("the when statement has one branch per conditional trigger", () => {
    const conditional = trigger({ when: "NEW.active" });
    const statement = whenStatement([trigger({}), conditional]);
    expect(statement.slot.get(conditional)).toBe(0);
    expect(statement.text).toContain("NEW.active");
    expect(statement.text).toContain('null::"public"."users"');
  });
});

describe("replication settings", () => {
  test("each problem says what to do", () => {
    expect(replicationProblems({ walLevel: "logical", role: "app", canReplicate: true })).toEqual([]);
    const problems = replicationProblems({ walLevel: "replica", role: "app", canReplicate: false });
    expect(problems[0]).toMatch(/wal_level is "replica".*ALTER SYSTEM SET wal_level = logical.*restart/);
    expect(problems[1]).toMatch(/role "app".*ALTER ROLE "app" WITH REPLICATION/);
  });

  test("the replication connection is derived from the postgres.js options", async () => {
    const sql = postgres("postgres://ada:s%40cret@db.example:6543/shop?sslmode=require");
    const config = clientConfigFrom(sql);
    expect(config).toMatchObject({ host: "db.example", port: 6543, user: "ada", password: "s@cret", database: "shop", ssl: { rejectUnauthorized: false } });
    await sql.end();
  });
});
