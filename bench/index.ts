/**
 * `npm run bench`: pgconductor-js against graphile-worker 0.18 (defaults and its fast mode) and
 * pg-boss 12 on one PostgreSQL server (embedded PostgreSQL 18, or DATABASE_URL), each system in a
 * database of its own. Prints one table per workload and writes the same text to
 * bench/results/latest.txt. Ratios divide by graphile-worker's fast mode from the same run unless a
 * table says otherwise.
 *
 * Adding a workload:
 *   1. Create bench/workloads/<name>.ts exporting a `Workload` (see workloads/workload.ts). Its
 *      `run(env)` is one round on one system: start `env.system` with a handler, warm up, measure,
 *      stop it (in `finally`), and return a sample; `summarize(samples)` turns the rounds into a row
 *      (or several). A workload for our runtime only sets `systems: ["pgconductor"]`; if it needs
 *      tasks or triggers the common adapter cannot express, it may ignore `env.system` and build its
 *      own Conductor + Orchestrator on `env.databaseUrl` (closing them before returning).
 *   2. Add it to WORKLOADS below. `ratio` picks the row its last column divides by (another
 *      workload's row too, like the step workload's "vs our no-op").
 *   Keep a run to a few seconds: the whole default bench should stay within about five minutes on 2 cores.
 *
 * Settings: BENCH_JOBS (throughput batch, default 5000), BENCH_LATENCY_JOBS (latency samples per
 * round, default 300), BENCH_ROUNDS (default 2), BENCH_ONLY (comma-separated workload keys to run).
 * BENCH_FULL=1 runs the heavy workloads at full size: throughput with 1,000,000 retained completed
 * executions (default 100,000) and the long run of 300,000 executions (default 30,000), which add
 * several minutes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { startLocalPostgres, withDatabase } from "../src/dev/local-postgres";
import { machineLine } from "./machine";
import { graphileDefault, graphileFast } from "./systems/graphile-worker";
import { pgBoss } from "./systems/pg-boss";
import { pgconductor, pgconductorNoLocal } from "./systems/pgconductor";
import type { SystemFactory } from "./systems/system";
import { formatTable } from "./table";
import { latency } from "./workloads/latency";
import { lateness } from "./workloads/lateness";
import { stepThroughput } from "./workloads/step-throughput";
import { throughput } from "./workloads/throughput";
import { retainedThroughput } from "./workloads/retained-throughput";
import { limitedNeighbour } from "./workloads/limited-neighbour";
import { batchThroughput } from "./workloads/batch-throughput";
import { processes } from "./workloads/processes";
import { longRun } from "./workloads/long-run";
import { rowChangeLatency } from "./workloads/row-change-latency";
import { flowNeighbours, flowSolo } from "./workloads/flow-neighbours";
import { telemetryCost } from "./telemetry-cost";
import type { BenchSettings, Row, Workload } from "./workloads/workload";

const SYSTEMS: SystemFactory[] = [pgconductor, pgconductorNoLocal, graphileFast, graphileDefault, pgBoss];
const WORKLOADS: Workload[] = [
  throughput,
  latency,
  lateness,
  stepThroughput,
  limitedNeighbour,
  flowSolo,
  flowNeighbours,
  batchThroughput,
  processes,
  retainedThroughput,
  longRun,
  rowChangeLatency,
  telemetryCost,
];

function settingFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer (got "${raw}")`);
  return value;
}

function selectedWorkloads(): Workload[] {
  const raw = process.env.BENCH_ONLY;
  if (!raw) return WORKLOADS;
  const keys = raw.split(",").map((key) => key.trim());
  const unknown = keys.filter((key) => !WORKLOADS.some((workload) => workload.key === key));
  if (unknown.length > 0) {
    throw new Error(`BENCH_ONLY names unknown workloads: ${unknown.join(", ")} (known: ${WORKLOADS.map((w) => w.key).join(", ")})`);
  }
  return WORKLOADS.filter((workload) => keys.includes(workload.key));
}

const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

type Outcome = Row[] | Error;

async function main(): Promise<void> {
  const settings: BenchSettings = {
    jobs: settingFromEnv("BENCH_JOBS", 5000),
    latencyJobs: settingFromEnv("BENCH_LATENCY_JOBS", 300),
    rounds: settingFromEnv("BENCH_ROUNDS", 2),
    full: process.env.BENCH_FULL === "1",
  };
  const workloads = selectedWorkloads();
  const began = Date.now();
  const server = await startLocalPostgres();
  const admin = postgres(server.url, { onnotice: () => {}, max: 1 });
  const databases = new Map<string, string>();
  try {
    const machine = await machineLine(admin, server.embedded);
    const systems = SYSTEMS.filter((system) => system.unavailable() === null);
    for (const system of systems) {
      const name = `pgconductor_bench_${system.key.replace(/[^a-z0-9]/g, "_")}`;
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.unsafe(`create database ${name}`);
      databases.set(system.key, withDatabase(server.url, name));
    }

    const rows = new Map<string, Map<string, Outcome>>();
    for (const workload of workloads) {
      const targets = systems.filter(
        (system) => (!workload.systems || workload.systems.includes(system.key)) && (!system.onlyWorkloads || system.onlyWorkloads.includes(workload.key)),
      );
      const samples = new Map<string, unknown[]>(targets.map((system) => [system.key, []]));
      const errors = new Map<string, Error>();
      const rounds = workload.rounds?.(settings) ?? settings.rounds;
      for (let round = 0; round < rounds; round++) {
        // Reverse the order every round so no system always runs first (or right after a heavy one).
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const factory of order) {
          if (errors.has(factory.key)) continue;
          progress(`${workload.key} round ${round + 1}/${rounds}: ${factory.label}`);
          const databaseUrl = databases.get(factory.key)!;
          try {
            const sample = await workload.run({ system: factory.create(databaseUrl), factory, databaseUrl, settings, progress });
            samples.get(factory.key)!.push(sample);
          } catch (error) {
            progress(`  failed: ${(error as Error).stack ?? (error as Error).message}`);
            errors.set(factory.key, error as Error);
          }
        }
      }
      for (const factory of targets) await workload.cleanUp?.(databases.get(factory.key)!, factory.key);
      rows.set(
        workload.key,
        new Map<string, Outcome>(
          targets.map((system): [string, Outcome] => {
            const error = errors.get(system.key);
            if (error) return [system.key, error];
            const summary = workload.summarize(samples.get(system.key)!);
            return [system.key, Array.isArray(summary) ? summary : [summary]];
          }),
        ),
      );
    }

    const report = render(machine, settings, workloads, systems, rows, Math.round((Date.now() - began) / 1000));
    process.stdout.write(`${report}\n`);
    const resultsDir = join(__dirname, "results");
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, "latest.txt"), `${report}\n`);
  } finally {
    if (!server.embedded) for (const url of databases.values()) await admin.unsafe(`drop database if exists ${new URL(url).pathname.slice(1)} with (force)`);
    await admin.end({ timeout: 5 });
    await server.stop();
  }
}

function ratio(value: number | undefined, base: number | undefined): string {
  return value !== undefined && base !== undefined && base > 0 ? (value / base).toFixed(2) : "n/a";
}

function render(
  machine: string,
  settings: BenchSettings,
  workloads: Workload[],
  systems: SystemFactory[],
  rows: Map<string, Map<string, Outcome>>,
  seconds: number,
): string {
  const out: string[] = [
    `pgconductor-js benchmark | ${machine}`,
    `N=${settings.jobs} jobs per throughput batch, ${settings.latencyJobs} latency samples per round, ${settings.rounds} rounds ` +
      `(system order reversed each round), ${settings.full ? "BENCH_FULL=1" : "default sizes (BENCH_FULL unset)"}, total ${seconds} s. ` +
      "One server, one database per system.",
    "",
  ];
  for (const workload of workloads) {
    const byKey = rows.get(workload.key);
    if (!byKey) continue;
    const spec = workload.ratio;
    const baselineOutcome = spec ? rows.get(spec.workload ?? workload.key)?.get(spec.system) : undefined;
    const baseline = Array.isArray(baselineOutcome) ? baselineOutcome[0] : undefined;
    const headers = ["system", ...workload.columns];
    if (spec) headers.push(spec.header);
    if (spec?.secondaryHeader) headers.push(spec.secondaryHeader);
    const table: string[][] = [];
    for (const [key, outcome] of byKey) {
      const label = systems.find((system) => system.key === key)!.label;
      if (outcome instanceof Error) {
        table.push([label, ...workload.columns.map(() => "-"), `failed: ${outcome.message}`]);
        continue;
      }
      for (const row of outcome) {
        const cells = [row.label ?? label, ...row.figures];
        if (spec) cells.push(ratio(row.primary, baseline?.primary));
        if (spec?.secondaryHeader) cells.push(ratio(row.secondary, baseline?.secondary));
        table.push(cells);
      }
    }
    out.push(workload.title, "=".repeat(workload.title.length), workload.description, "", formatTable(headers, table), "");
  }
  out.push("Systems:");
  for (const system of SYSTEMS) {
    const reason = system.unavailable();
    const settingsLine = reason === null ? system.settings : `skipped: ${reason}`;
    const cap = system.latencySampleCap
      ? `; latency: at most ${system.latencySampleCap} samples per round, spaced randomly over the poll interval`
      : "";
    out.push(`  ${system.label}: ${settingsLine}${cap}`);
  }
  return out.join("\n");
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
