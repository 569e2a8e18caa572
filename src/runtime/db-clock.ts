/**
 * The database's time as seen from this process. Every time two processes must agree on (a
 * notification's run_at, a timer for the next due execution, a cron fire time) is a database time;
 * comparing it with Date.now() breaks when this machine's clock is off. The offset is measured at
 * start and on every health round (half the round trip is taken as the one-way delay), and timers,
 * which run on the local clock, are armed at `toLocal(databaseTime)`.
 */
import type { Sql } from "postgres";
import { readDatabaseClock } from "../db/clock";

export interface DatabaseClock {
  /** The database's time now, in epoch ms. */
  now(): number;
  /** A database time (epoch ms) on this process's clock, for arming timers. */
  toLocal(databaseMs: number): number;
  /** Database minus local clock, in ms (0 until measured). */
  readonly offsetMs: number;
}

export class MeasuredClock implements DatabaseClock {
  private offset = 0;
  private measured = false;

  constructor(private readonly local: () => number = Date.now) {}

  get offsetMs(): number {
    return this.offset;
  }

  get isMeasured(): boolean {
    return this.measured;
  }

  now(): number {
    return this.local() + this.offset;
  }

  toLocal(databaseMs: number): number {
    return databaseMs - this.offset;
  }

  /** One measurement; returns the new offset. */
  async measure(sql: Sql): Promise<number> {
    const sent = this.local();
    const database = await readDatabaseClock(sql);
    const received = this.local();
    this.offset = Math.round(database - (sent + received) / 2);
    this.measured = true;
    return this.offset;
  }
}
