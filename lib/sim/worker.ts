/** A worker thread of runBatch: runs its share of the seeds and posts the summary back. */
import { parentPort, workerData } from 'node:worker_threads';
import { runSeedsHere, type ScheduleOptions, type StopAt } from './batch.js';

const { seeds, schedule, stop } = workerData as {
  seeds: number[];
  schedule: ScheduleOptions;
  stop: StopAt;
};
parentPort?.postMessage(await runSeedsHere(seeds, schedule, stop));
