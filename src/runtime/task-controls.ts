/**
 * What a worker needs to know about its tasks' execution control at claim time and afterwards:
 * which tasks may be claimed now (windows), which have a concurrency limit (claimed through
 * claim_with_limits, and wake the queue when they free a slot), which pause at their next step,
 * and which finished executions are removed at once. With none of these set, `claimable()` returns
 * the same arrays every time and the worker takes the plain claim.
 */
import type { Task } from "../model/task";
import { settingsOf, type TaskSettings } from "../model/task-settings";
import { isWindowOpen, nextWindowOpening } from "../model/time-window";
import { flowSettingsOf, isFlowLimited } from "../model/flow-settings";
import type { TaskLimits } from "../db/flow-control";
import type { PauseState } from "./pause-state";

export interface ClaimableKeys {
  unlimited: string[];
  limited: string[];
  /** Real epoch ms at which a window now closed opens next (null when none is closed). */
  nextOpeningAt: number | null;
}

export class TaskControls {
  private readonly settings: Map<string, TaskSettings>;
  private readonly windowed: string[];
  private readonly allOpen: ClaimableKeys;
  private readonly limits: Map<string, TaskLimits>;
  private readonly queueOf: Map<string, string>;

  constructor(
    tasks: readonly Task[],
    private readonly clock: () => Date = () => new Date(),
    private readonly pauses?: PauseState,
  ) {
    this.settings = new Map(tasks.map((task) => [task.name, settingsOf(task)]));
    this.queueOf = new Map(tasks.map((task) => [task.name, task.queue]));
    this.limits = new Map(tasks.flatMap((task) => {
      const flow = flowSettingsOf(task);
      const concurrency = this.settings.get(task.name)!.concurrency;
      if (!isFlowLimited(flow, concurrency)) return [];
      return [[task.name, {
        key: task.name, concurrency, keyConcurrency: flow.keyConcurrency,
        rateLimit: flow.rateLimit?.limit ?? null, ratePeriodSeconds: flow.rateLimit?.periodSeconds ?? null,
        ratePerKey: flow.rateLimit?.perKey ?? false,
      }]] as const;
    }));
    this.windowed = tasks.filter((task) => this.settings.get(task.name)!.window).map((task) => task.name);
    this.allOpen = this.split(tasks.map((task) => task.name), null);
  }

  /** True when some task removes its executions as soon as they finish. */
  get removesAtOnce(): boolean {
    return [...this.settings.values()].some((s) => s.removeOnCompleteMs === 0 || s.removeOnFailMs === 0);
  }

  /** True when some task has a limit, so the claim must count running executions. */
  get hasLimits(): boolean {
    return this.allOpen.limited.length > 0;
  }

  /** The limits of these (limited) tasks, for claim_limited. */
  limitsOf(keys: readonly string[]): TaskLimits[] {
    return keys.map((key) => this.limits.get(key)!);
  }

  /** Claimed through claim_limited: a task, per-key or rate limit. */
  isLimited(taskKey: string): boolean {
    return this.limits.has(taskKey);
  }

  isBatch(taskKey: string): boolean {
    return this.settings.get(taskKey)?.batch != null;
  }

  settingsFor(taskKey: string): TaskSettings | undefined {
    return this.settings.get(taskKey);
  }

  /** The task keys to claim now: tasks outside their window, and paused ones, are left out. */
  claimable(): ClaimableKeys {
    const keys = this.openNow();
    if (!this.pauses || this.pauses.isEmpty) return keys;
    const running = (key: string) => !this.isPaused(key);
    return { unlimited: keys.unlimited.filter(running), limited: keys.limited.filter(running), nextOpeningAt: keys.nextOpeningAt };
  }

  private isPaused(taskKey: string): boolean {
    const queue = this.queueOf.get(taskKey);
    return this.pauses !== undefined && queue !== undefined && this.pauses.isPaused(queue, taskKey);
  }

  private openNow(): ClaimableKeys {
    if (this.windowed.length === 0) return this.allOpen;
    const now = this.clock();
    const closed = new Set<string>();
    let nextOpening: number | null = null;
    for (const key of this.windowed) {
      const window = this.settings.get(key)!.window!;
      if (isWindowOpen(window, now)) continue;
      closed.add(key);
      const opens = nextWindowOpening(window, now).getTime();
      if (nextOpening === null || opens < nextOpening) nextOpening = opens;
    }
    if (closed.size === 0) return this.allOpen;
    // The clock may be injected (tests, simulations): the timer runs in real time, so arm it by distance.
    const nextOpeningAt = nextOpening === null ? null : Date.now() + Math.max(0, nextOpening - now.getTime());
    return {
      unlimited: this.allOpen.unlimited.filter((key) => !closed.has(key)),
      limited: this.allOpen.limited.filter((key) => !closed.has(key)),
      nextOpeningAt,
    };
  }

  /** Whether a claimed (buffered) execution of this task may start now: not paused, window open. */
  mayStart(taskKey: string): boolean {
    return !this.shouldPause(taskKey) && !this.isPaused(taskKey);
  }

  /** A running execution of this task stops at its next step or checkpoint (its window closed). */
  shouldPause(taskKey: string): boolean {
    const window = this.settings.get(taskKey)?.window;
    return window ? !isWindowOpen(window, this.clock()) : false;
  }

  /** Ids of these finished executions whose task removes them as soon as they finish. */
  removeAtOnce(outcomes: readonly { kind: string; id: string; taskKey: string; final?: boolean }[]) {
    const completed: string[] = [];
    const failed: string[] = [];
    for (const outcome of outcomes) {
      const settings = this.settings.get(outcome.taskKey);
      if (outcome.kind === "complete" && settings?.removeOnCompleteMs === 0) completed.push(outcome.id);
      if (outcome.kind === "fail" && settings?.removeOnFailMs === 0) failed.push(outcome.id);
    }
    return { completed, failed };
  }

  private split(keys: string[], nextOpeningAt: number | null): ClaimableKeys {
    return {
      unlimited: keys.filter((key) => !this.limits.has(key)),
      limited: keys.filter((key) => this.limits.has(key)),
      nextOpeningAt,
    };
  }
}
