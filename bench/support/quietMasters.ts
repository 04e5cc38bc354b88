/**
 * The many plain masters the scale and cost benches start (hundreds of redis-server processes on one
 * machine). In production each master runs on its own host; here they share two cores with the sentinels
 * under test, DynamoDB Local and the topology that fails over. Two settings keep them from turning the
 * bench into a measure of the machine's run queue, while they still answer every PING and INFO the
 * sentinels send (the sentinels' own work is unchanged): no persistence, one cron run a second, few clients.
 *
 * bench:scale can also lower their scheduling priority (--healthy-nice). Measured at 1,000 masters on two
 * cores, nice 19 starved them: some left PINGs unanswered for over 5 s and the sentinels saw false +sdown, so
 * the default stays 0.
 */
import { setPriority } from 'node:os';

export const QUIET_MASTER_ARGS: readonly string[] = [
  '--save',
  '',
  '--appendonly',
  'no',
  '--hz',
  '1',
  '--dynamic-hz',
  'no',
  '--maxclients',
  '64',
  '--loglevel',
  'warning',
];

/** The default nice value of the healthy masters: normal priority (see above). */
export const QUIET_MASTER_NICE = 0;

/** Reads a --healthy-nice option: an integer 0–19. */
export function parseNice(text: string): number {
  const nice = Number(text);
  if (!Number.isInteger(nice) || nice < 0 || nice > 19)
    throw new Error('--healthy-nice must be an integer from 0 to 19');
  return nice;
}

/** Lowers a started master's priority (no-op at 0). */
export function lowerPriority(pid: number, nice: number): void {
  if (nice > 0) setPriority(pid, nice);
}
