/**
 * The first minute with the command: --version, help for every subcommand listing every flag, and
 * connection errors that name the URL (password elided) instead of `Invalid URL` or a hang.
 */
import { execFileSync } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS, main } from "../../src/cli/index";
import { COMMON_OPTIONS, type CliIo } from "../../src/cli/command";
import { Conductor, TaskSchemas, defineTask } from "pgconductor-js";

const root = join(__dirname, "..", "..");

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env, color: false, interrupted: new Promise(() => {}) };
  const code = await main(argv, io);
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

test("pgconductor --version prints the package version", () => {
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const output = execFileSync(process.execPath, [join(root, "bin", "pgconductor.js"), "--version"], { encoding: "utf8", env: { ...process.env, DATABASE_URL: "" } });
  expect(output.trim()).toBe(version);
});

test.each(COMMANDS.map((command) => [command.name, command] as const))("`%s --help` lists every flag it takes", async (name, command) => {
  const { code, stdout } = await cli([...name.split(" "), "--help"]);
  expect(code).toBe(0);
  const listed = stdout.split("\n").filter((line) => /^\s+(-\w, )?--[a-z]/.test(line)).map((line) => /--([a-z-]+)/.exec(line)![1]);
  for (const flag of [...Object.keys(command.options), ...Object.keys(COMMON_OPTIONS)]) expect(listed).toContain(flag);
});

test("`gen --help` is the help of `gen types`", async () => {
  const { code, stdout } = await cli(["gen", "--help"]);
  expect(code).toBe(0);
  expect(stdout).toContain("usage: pgconductor gen types typescript");
  expect(stdout).toContain("--schemas");
});

test("watch --help lists --task and --queue", async () => {
  const { stdout } = await cli(["watch", "--help"]);
  expect(stdout).toMatch(/^\s+--task NAME/m);
  expect(stdout).toMatch(/^\s+--queue NAME/m);
});

describe("connection errors name the URL without its password", () => {
  test("a connection string that does not parse", async () => {
    const { code, stderr } = await cli(["status", "--db-url", "postgres://ada:s3cret@db.example:99999/app"]);
    expect(code).toBe(1);
    expect(stderr).toContain('invalid connection string "postgres://ada:***@db.example:99999/app"');
    expect(stderr).not.toContain("s3cret");
  });

  test("a connection string of another database", async () => {
    const { code, stderr } = await cli(["list"], { DATABASE_URL: "mysql://ada:s3cret@db.example/app" });
    expect(code).toBe(1);
    expect(stderr).toContain("must start with postgres:// or postgresql://");
    expect(stderr).not.toContain("s3cret");
  });

  test("a refused connection", async () => {
    const port = await freePort();
    const { code, stderr } = await cli(["status", "--db-url", `postgres://ada:s3cret@127.0.0.1:${port}/app`]);
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot connect to postgres://ada:***@127.0.0.1:${port}/app: connection refused`);
    expect(stderr).not.toContain("s3cret");
  });

  test("a server that never answers gives up after --connect-timeout", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    const port = await listen(silent);
    try {
      const { code, stderr } = await cli(["migrate", "--db-url", `postgres://ada:s3cret@127.0.0.1:${port}/app`, "--connect-timeout", "1"]);
      expect(code).toBe(1);
      expect(stderr).toContain(`cannot connect to postgres://ada:***@127.0.0.1:${port}/app: no answer within the connect timeout`);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test("a database that does not exist", async () => {
    const url = new URL(process.env.PGCONDUCTOR_TEST_SERVER_URL!);
    url.pathname = "/no_such_database_here";
    const { code, stderr } = await cli(["status", "--db-url", url.toString()]);
    expect(code).toBe(1);
    expect(stderr).toContain("the database does not exist");
  });

  test("--connect-timeout must be a positive number", async () => {
    const { code, stderr } = await cli(["status", "--db-url", "postgres://x/y", "--connect-timeout", "soon"]);
    expect(code).toBe(2);
    expect(stderr).toContain('--connect-timeout must be a positive number of seconds, got "soon"');
  });
});

test("Conductor.create with a connection string that does not parse names it, password elided", () => {
  const tasks = TaskSchemas.fromSchema([defineTask({ name: "t" })]);
  expect(() => Conductor.create({ connectionString: "postgres://ada:s3cret@db.example:99999/app", tasks })).toThrow(
    'invalid connection string "postgres://ada:***@db.example:99999/app": Invalid URL',
  );
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}
