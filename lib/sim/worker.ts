/** A worker thread of runBatch: runs its share of the seeds and posts the summary back. */
import { parentPort, workerData } from 'node:worker_threads';
import { runSeedsHere, type ScheduleOptions, type SeedRange, type StopAt } from './batch.js';

const { seeds, schedule, stop, measureLiveHeap } = workerData as {
  seeds: SeedRange;
  schedule: ScheduleOptions;
  stop: StopAt;
  measureLiveHeap: boolean;
};
parentPort?.postMessage(await runSeedsHere(seeds, schedule, stop, measureLiveHeap));
