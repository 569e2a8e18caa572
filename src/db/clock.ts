/** The database's clock, the one time every process agrees on. */
import type { Db } from "./db";

/** clock_timestamp() (not now(): that is the transaction's start) in epoch ms. */
export async function readDatabaseClock(db: Db): Promise<number> {
  const [row] = await db<{ ms: number }[]>`select (extract(epoch from clock_timestamp()) * 1000)::float8 as ms`;
  return row.ms;
}
