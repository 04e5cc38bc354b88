/**
 * Bounded memory: a finished schedule leaves nothing reachable, so a batch of any size holds one schedule
 * at a time. Checked with the garbage collector itself: after a run, a WeakRef to something only the run
 * held must be cleared by a full collection.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Process, Simulator } from '../../lib/sim/scheduler.js';
import { runSchedule } from '../../lib/sim/world.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Full collections after the current job: a WeakRef made in this job keeps its target until it ends. */
async function collect(): Promise<void> {
  for (let i = 0; i < 2; i += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

/** A run whose one process is left sleeping on `signal` at the horizon, as killed runners and loops are. */
async function runLeavingASleep(signal: AbortSignal, dispose: boolean): Promise<WeakRef<Simulator>> {
  const sim = new Simulator(0);
  const process = new Process(sim, 'p', 0);
  void process.sleep(1_000, signal);
  await sim.run(10, () => {});
  if (dispose) sim.dispose();
  return new WeakRef(sim);
}

describe('simulation memory', () => {
  it('a sleep left pending on a signal that outlives the run does not keep the run alive', async () => {
    // A never-aborted signal combined with AbortSignal.any: Node keeps such a signal, with its abort
    // listeners, in a process-wide set for as long as it has one, so a listener left attached keeps
    // everything its closure reaches (the whole schedule, in a world).
    const outliving = new AbortController();
    const kept = await runLeavingASleep(AbortSignal.any([outliving.signal]), false);
    const disposed = await runLeavingASleep(AbortSignal.any([outliving.signal]), true);
    await collect();
    // Without dispose the simulator stays reachable (this is what made a batch grow per schedule)…
    expect(kept.deref()).toBeDefined();
    // …and disposing of the run detaches the listener, so nothing refers back into it.
    expect(disposed.deref()).toBeUndefined();
    expect(outliving.signal.aborted).toBe(false);
  });

  it('nothing of a finished schedule stays reachable once its result is dropped', async () => {
    /** Runs a schedule and keeps only a WeakRef to its fault counts: the world's own object. */
    const runAndDrop = async (seed: number): Promise<WeakRef<object>> => {
      const result = await runSchedule({ seed });
      expect(result.steps).toBeGreaterThan(1_000);
      return new WeakRef(result.faults);
    };
    const seeds = [1, 2, 3, 42, 4430];
    const refs: Array<WeakRef<object>> = [];
    for (const seed of seeds) refs.push(await runAndDrop(seed));
    await collect();
    expect(seeds.filter((_, i) => refs[i]?.deref() !== undefined)).toEqual([]);
  });
});
