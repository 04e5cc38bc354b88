/**
 * Sentinel's scripts in the local runner: `notification-script` and `client-reconfig-script`, run as
 * Sentinel runs them. Each sentinel of the runner has its own queue, as each Sentinel process has.
 *
 * - notification-script <path>: run for every WARNING-level event about a master or one of its
 *   instances, with two arguments: the event type and its payload (`+sdown` `master mymaster 10.0.0.1 6379`).
 * - client-reconfig-script <path>: run when the master changes, with `<master-name> <role> <state>
 *   <from-ip> <from-port> <to-ip> <to-port>`: role `leader` for the sentinel that promoted the replica
 *   (at `+promoted-slave`), `observer` for the others (at their `+switch-master`); state is always `start`.
 *
 * Sentinel's rules (SCRIPT_LIMITS): at most 16 scripts run at once and 256 wait (the oldest waiting one is
 * dropped beyond that); a script running longer than 60 s is killed (SIGKILL) with `-script-timeout
 * <path> <pid>`; one that exits 1 or is killed by a signal is retried, at most 10 runs in all, 30 s after
 * the first run and twice as long after each further one; any other non-zero exit (and a script that
 * cannot be started) ends with `-script-error <path> <signal> <exit code>`, never retried. Scripts run
 * with the runner's environment, without a shell, their output discarded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { PendingScript } from '../commands/processControls.js';
import { makeEvent } from '../core/events.js';
import { SENTINEL_REPLY } from '../core/sentinelReplies.js';
import type { ScriptChange } from '../core/settings.js';
import type { SentinelConfig, SentinelEvent, SentinelId } from '../core/types.js';

/** Sentinel's limits (SENTINEL_SCRIPT_MAX_QUEUE, _MAX_RUNNING, _MAX_RETRY, and its two timings). */
export const SCRIPT_LIMITS = {
  maxQueue: 256,
  maxRunning: 16,
  maxRuns: 10,
  retryDelayMs: 30_000,
  maxRuntimeMs: 60_000,
} as const;

export type ScriptLimits = { readonly [K in keyof typeof SCRIPT_LIMITS]: number };

/** Exit code that asks Sentinel to run the script again; a child that cannot exec exits 2 (no retry). */
const EXIT_RETRY = 1;
const EXIT_CANNOT_RUN = 2;

interface Job {
  readonly argv: readonly string[];
  runs: number;
  /** Not before this time (ms since the epoch); 0: as soon as a slot is free. */
  notBefore: number;
  child: ChildProcess | null;
  startedAt: number;
  timeout: NodeJS.Timeout | null;
}

/** One sentinel's script queue. `emit` reports `-script-error` and `-script-timeout`. */
export class ScriptQueue {
  readonly #jobs: Job[] = [];
  readonly #limits: ScriptLimits;
  readonly #emit: (event: SentinelEvent) => void;
  #wake: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(emit: (event: SentinelEvent) => void, limits: Partial<ScriptLimits> = {}) {
    this.#emit = emit;
    this.#limits = { ...SCRIPT_LIMITS, ...limits };
  }

  /** Queues `path` with `args`; the oldest waiting script is dropped when the queue is full. */
  schedule(path: string, args: readonly string[]): void {
    if (this.#stopped) return;
    this.#jobs.push({
      argv: [path, ...args],
      runs: 0,
      notBefore: 0,
      child: null,
      startedAt: 0,
      timeout: null,
    });
    if (this.#jobs.length > this.#limits.maxQueue) {
      const oldestWaiting = this.#jobs.findIndex((job) => job.child === null);
      if (oldestWaiting >= 0) this.#jobs.splice(oldestWaiting, 1);
    }
    this.#pump();
  }

  /** Scripts waiting or running (for SENTINEL PENDING-SCRIPTS and tests). */
  pending(): ReadonlyArray<{
    readonly argv: readonly string[];
    readonly running: boolean;
    readonly runs: number;
    readonly pid: number;
    readonly startedAt: number;
    readonly notBefore: number;
  }> {
    return this.#jobs.map((job) => ({
      argv: job.argv,
      running: job.child !== null,
      runs: job.runs,
      pid: job.child?.pid ?? 0,
      startedAt: job.startedAt,
      notBefore: job.notBefore,
    }));
  }

  /** Kills what runs and drops what waits (the runner stops). */
  stop(): void {
    this.#stopped = true;
    if (this.#wake) clearTimeout(this.#wake);
    for (const job of this.#jobs.splice(0)) {
      if (job.timeout) clearTimeout(job.timeout);
      job.child?.kill('SIGKILL');
    }
  }

  #running(): number {
    return this.#jobs.filter((job) => job.child !== null).length;
  }

  /** Starts due jobs, oldest first, up to maxRunning; wakes again for the next retry. */
  #pump(): void {
    if (this.#stopped) return;
    const now = Date.now();
    for (const job of this.#jobs) {
      if (this.#running() >= this.#limits.maxRunning) break;
      if (job.child !== null || job.notBefore > now) continue;
      this.#start(job);
    }
    if (this.#wake) clearTimeout(this.#wake);
    this.#wake = null;
    const next = Math.min(
      ...this.#jobs.filter((job) => job.child === null && job.notBefore > now).map((job) => job.notBefore),
    );
    if (Number.isFinite(next)) {
      this.#wake = setTimeout(() => this.#pump(), next - now);
      this.#wake.unref();
    }
  }

  #start(job: Job): void {
    const [path, ...args] = job.argv as [string, ...string[]];
    job.runs += 1;
    job.startedAt = Date.now();
    const child = spawn(path, args, { stdio: 'ignore', shell: false });
    job.child = child;
    let settled = false;
    const settle = (exitCode: number, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      this.#finished(job, exitCode, signal);
    };
    // A script that cannot be started is Sentinel's child failing its execve: exit 2, no retry.
    child.once('error', () => settle(EXIT_CANNOT_RUN, null));
    child.once('exit', (code, signal) => settle(code ?? 0, signal));
    job.timeout = setTimeout(() => {
      this.#emit(makeEvent('-script-timeout', `${path} ${child.pid ?? 0}`, null, Date.now()));
      child.kill('SIGKILL');
    }, this.#limits.maxRuntimeMs);
    job.timeout.unref();
  }

  #finished(job: Job, exitCode: number, signal: NodeJS.Signals | null): void {
    if (job.timeout) clearTimeout(job.timeout);
    job.timeout = null;
    job.child = null;
    if (this.#stopped) return;
    const bySignal = signal === null ? 0 : (osConstants.signals[signal] ?? 0);
    if ((bySignal !== 0 || exitCode === EXIT_RETRY) && job.runs < this.#limits.maxRuns) {
      // 30 s after the first run, then twice as long after each further one (Sentinel's doubling).
      job.notBefore = Date.now() + this.#limits.retryDelayMs * 2 ** (job.runs - 1);
    } else {
      if (bySignal !== 0 || exitCode !== 0) {
        this.#emit(makeEvent('-script-error', `${job.argv[0]} ${bySignal} ${exitCode}`, null, Date.now()));
      }
      this.#jobs.splice(this.#jobs.indexOf(job), 1);
    }
    this.#pump();
  }
}

/** Sentinel's check of a script path, at load and at SET: it must exist and be executable. */
export function scriptProblem(change: ScriptChange): string | null {
  const executable = (path: string | undefined) => {
    if (path === undefined || path === '') return true;
    try {
      accessSync(path, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (!executable(change.notificationScript)) return SENTINEL_REPLY.notificationScriptNotExecutable;
  if (!executable(change.clientReconfigScript)) return SENTINEL_REPLY.clientReconfigScriptNotExecutable;
  return null;
}

/** `slave <ip>:<port> <ip> <port> @ <master> <master-ip> <master-port>`: the replica's and master's addresses. */
const PROMOTED = /^slave \S+ (\S+) (\d+) @ \S+ (\S+) (\d+)$/;

/**
 * The scripts of every master, and each sentinel's queue: `observe` is given every event a sentinel of
 * the runner emits, and runs what Sentinel would run for it.
 */
export class LocalScripts {
  readonly #paths = new Map<string, ScriptChange>();
  readonly #queues = new Map<SentinelId, ScriptQueue>();
  /** `<sentinel>\0<master>` while that sentinel leads a failover it promoted a replica in. */
  readonly #leading = new Set<string>();

  constructor(
    config: SentinelConfig,
    readonly emit: (event: SentinelEvent, sentinelId: SentinelId) => void,
    readonly limits: Partial<ScriptLimits> = {},
  ) {
    for (const master of config.masters) {
      this.#paths.set(master.name, {
        ...(master.notificationScript !== undefined ? { notificationScript: master.notificationScript } : {}),
        ...(master.clientReconfigScript !== undefined
          ? { clientReconfigScript: master.clientReconfigScript }
          : {}),
      });
    }
  }

  /** Sentinel refuses a file whose scripts are missing or not executable: the first problem, or null. */
  configProblem(): { readonly master: string; readonly problem: string } | null {
    for (const [master, paths] of this.#paths) {
      const problem = scriptProblem(paths);
      if (problem !== null) return { master, problem };
    }
    return null;
  }

  /** One sentinel's scripts, waiting or running, as SENTINEL PENDING-SCRIPTS reports them. */
  pendingOf(sentinelId: SentinelId, now: number): PendingScript[] {
    return (this.#queues.get(sentinelId)?.pending() ?? []).map((job) => ({
      argv: job.argv,
      running: job.running,
      pid: job.pid,
      ms: job.running ? Math.max(0, now - job.startedAt) : Math.max(0, job.notBefore - now),
      // Sentinel counts the retries: a waiting job has been retried once per run so far.
      retries: job.running ? Math.max(0, job.runs - 1) : job.runs,
    }));
  }

  /** SENTINEL SET notification-script|client-reconfig-script (an empty path removes the script). */
  set(master: string, change: ScriptChange): void {
    this.#paths.set(master, { ...this.#paths.get(master), ...change });
  }

  observe(event: SentinelEvent, sentinelId: SentinelId): void {
    const master = event.master;
    if (master === null) return;
    const paths = this.#paths.get(master);
    if (paths?.notificationScript && event.level === 'warning') {
      this.#queue(sentinelId).schedule(paths.notificationScript, [event.type, event.payload]);
    }
    const key = `${sentinelId}\0${master}`;
    if (event.type === '+promoted-slave') {
      this.#leading.add(key);
      const promoted = PROMOTED.exec(event.payload);
      if (paths?.clientReconfigScript && promoted) {
        const [, ip, port, fromIp, fromPort] = promoted as unknown as [
          string,
          string,
          string,
          string,
          string,
        ];
        this.#queue(sentinelId).schedule(paths.clientReconfigScript, [
          master,
          'leader',
          'start',
          fromIp,
          fromPort,
          ip,
          port,
        ]);
      }
    } else if (event.type === '+switch-master') {
      // The leader's own +switch-master ends the failover it already reported at the promotion.
      if (this.#leading.delete(key)) return;
      const [name, fromIp, fromPort, toIp, toPort] = event.payload.split(' ');
      if (paths?.clientReconfigScript && name && fromIp && fromPort && toIp && toPort) {
        this.#queue(sentinelId).schedule(paths.clientReconfigScript, [
          name,
          'observer',
          'start',
          fromIp,
          fromPort,
          toIp,
          toPort,
        ]);
      }
    }
  }

  stop(): void {
    for (const queue of this.#queues.values()) queue.stop();
  }

  #queue(sentinelId: SentinelId): ScriptQueue {
    let queue = this.#queues.get(sentinelId);
    if (queue === undefined) {
      queue = new ScriptQueue((event) => this.emit(event, sentinelId), this.limits);
      this.#queues.set(sentinelId, queue);
    }
    return queue;
  }
}
