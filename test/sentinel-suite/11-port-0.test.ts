/**
 * Redis's Sentinel suite, 11-port-0: a sentinel restarted on the same port with a new run id does not
 * change how many sentinels the others count. Here membership is fixed by `sentinel members`, so a
 * restarted runner must count exactly the same sentinels.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRunner } from '../support/localRunner.js';
import { MEMBERS, masterFields, startSuiteRunner } from './harness.js';

let local: LocalRunner;

beforeAll(async () => {
  local = await startSuiteRunner();
});
afterAll(async () => {
  await local?.stop();
});

describe('11-port-0', () => {
  it('restarting the sentinels does not change the number of sentinels counted', async () => {
    const before = (await masterFields(local))['num-other-sentinels'];
    expect(before).toBe(String(MEMBERS.length - 1));
    await local.restart();
    expect((await masterFields(local))['num-other-sentinels']).toBe(before);
    expect((await local.sentinel('SENTINEL', 'SENTINELS', 'mymaster')) as unknown[]).toHaveLength(
      MEMBERS.length - 1,
    );
  });
});
