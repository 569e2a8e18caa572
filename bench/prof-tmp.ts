import postgres from "postgres";
import { pgconductor } from "./systems/pgconductor";
const base = process.env.DATABASE_URL!;
const N = Number(process.env.N ?? 20000);
async function main() {
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe("drop database if exists prof_tmp with (force)");
  await admin.unsafe("create database prof_tmp");
  const url = base.replace(/\/[^/]*$/, "/prof_tmp");
  const sys = pgconductor.create(url);
  let done = 0;
  let resolveAll!: () => void;
  let target = 500;
  let all = new Promise<void>((r) => (resolveAll = r));
  await sys.start(() => { if (++done === target) resolveAll(); });
  await sys.enqueueBatch([...Array(500)].map((_, seq) => ({ seq })));
  await all;
  for (let round = 0; round < 3; round++) {
    done = 0; target = N; all = new Promise<void>((r) => (resolveAll = r));
    await sys.enqueueBatch([...Array(N)].map((_, seq) => ({ seq })));
    const cpu0 = process.cpuUsage(); const t0 = performance.now();
    await all;
    while ((await sys.unfinished()) > 0) await new Promise((r) => setTimeout(r, 2));
    const ms = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
    console.log(`round ${round}: ${(N / ms * 1000).toFixed(0)} jobs/s, node cpu ${((cpu.user + cpu.system) / N).toFixed(1)} us/job, wall ${(ms * 1000 / N).toFixed(1)} us/job`);
  }
  await sys.stop();
  await admin.end();
}
main().catch((e) => { console.error(e); process.exit(1); });
