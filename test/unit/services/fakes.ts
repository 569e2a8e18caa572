/** Plain stand-ins for a service's context: a subject per channel, a recording logger. */
import { Subject } from "rxjs";
import type { Sql } from "postgres";
import type { ChannelMessage } from "../../../src/streams/notifications";
import type { ServiceContext } from "../../../src/runtime/service";
import type { Logger } from "../../../src/model/logger";

export function fakeContext(orchestratorId = "me") {
  const channels = new Map<string, Subject<ChannelMessage>>();
  const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => logs.push({ level, message, fields });
  const logger: Logger = { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") };
  const stops: string[] = [];
  const context: ServiceContext = {
    sql: {} as Sql,
    logger,
    orchestratorId,
    tasks: [],
    channel: (name) => {
      if (!channels.has(name)) channels.set(name, new Subject<ChannelMessage>());
      return channels.get(name)!;
    },
    requestStop: (reason) => stops.push(reason),
  };
  return { context, logs, stops, channel: (name: string) => context.channel(name) as Subject<ChannelMessage> };
}

/** A stand-in for a db call: answers from a queue of results and lets the test await each call. */
export function fakeCall<Args extends unknown[], R>(answers: (R | Error)[]) {
  const calls: Args[] = [];
  const waiting: { count: number; resolve: () => void }[] = [];
  const fn = async (...args: Args): Promise<R> => {
    calls.push(args);
    waiting.filter((w) => calls.length >= w.count).forEach((w) => w.resolve());
    const answer = answers.length > 1 ? answers.shift()! : answers[0];
    if (answer instanceof Error) throw answer;
    return answer;
  };
  const called = (count: number) =>
    calls.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ count, resolve }));
  return { fn, calls, called };
}
