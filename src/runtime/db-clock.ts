/**
 * The database's time as seen from this process. Every time two processes must agree on (a
 * notification's run_at, a timer for the next due execution, a cron fire time) is a database time;
 * comparing it with Date.now() breaks when this machine's clock is off. The offset is measured at
 * start and on every health round: half the round trip is taken as the one-way delay, so a sample
 * is good to ±(round trip / 2 + 1 ms). Of the recent samples the one with the shortest round trip
 * is used, so one slow round does not move the clock. Timers, which run on the local clock, are
 * armed at `toLocal(databaseTime)`, and a comparison closer than `uncertaintyMs` is treated as
 * both due and not due (claim now, and arm a timer too).
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
  /** How far `now()` may be off the database's true time, in ms. */
  readonly uncertaintyMs: number;
}

/** Samples kept (one per health round: a minute at the default heartbeat interval). */
const SAMPLES = 12;

export class MeasuredClock implements DatabaseClock {
  private samples: { offset: number; roundTrip: number }[] = [];
  private best = { offset: 0, roundTrip: 0 };

  constructor(private readonly local: () => number = Date.now) {}

  get offsetMs(): number {
    return this.best.offset;
  }

  get uncertaintyMs(): number {
    return Math.ceil(this.best.roundTrip / 2) + 1;
  }

  now(): number {
    return this.local() + this.best.offset;
  }

  toLocal(databaseMs: number): number {
    return databaseMs - this.best.offset;
  }

  /** One measurement; returns the offset now in use. */
  async measure(sql: Sql): Promise<number> {
    const sent = this.local();
    const database = await readDatabaseClock(sql);
    const received = this.local();
    this.samples = [...this.samples.slice(-(SAMPLES - 1)), { offset: Math.round(database - (sent + received) / 2), roundTrip: received - sent }];
    this.best = this.samples.reduce((a, b) => (b.roundTrip < a.roundTrip ? b : a));
    return this.best.offset;
  }
}

/**
 * How a worker reads a notification's run_at (a database time): due now (claim), in the future
 * (arm the timer), or, within the clock's uncertainty, both, so an estimate off by a millisecond
 * neither drops a wake-up nor calls a row due before it is. Timers are armed that much later on
 * the local clock. Without a clock, this process's clock is taken as the database's.
 */
export function notificationTiming(clock?: DatabaseClock) {
  const margin = () => clock?.uncertaintyMs ?? 0;
  return {
    judge(runAt: number) {
      const now = clock?.now() ?? Date.now();
      return { runAt, due: runAt <= now + margin(), future: runAt > now - margin() };
    },
    timerAt(databaseMs: number): number {
      return clock ? clock.toLocal(databaseMs) + margin() : databaseMs;
    },
  };
}
