/**
 * Redis's Sentinel suite, 06-ckquorum: SENTINEL CKQUORUM reports whether a failover could be authorized.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRunner, waitUntil } from '../support/localRunner.js';
import { MEMBERS, QUORUM, startSuiteRunner, WITHIN_MS } from './harness.js';

let local: LocalRunner;

beforeAll(async () => {
  local = await startSuiteRunner();
});
afterAll(async () => {
  await local?.stop();
});

describe('06-ckquorum', () => {
  it('CKQUORUM answers OK with the number of usable sentinels', async () => {
    expect(await local.sentinel('SENTINEL', 'CKQUORUM', 'mymaster')).toMatch(
      new RegExp(`^OK ${MEMBERS.length} usable Sentinels\\.`),
    );
  });

  it('CKQUORUM answers NOQUORUM when the quorum is above the number of sentinels', async () => {
    expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'quorum', MEMBERS.length + 1)).toBe('OK');
    // SENTINEL SET is stored at once; a read cached just before it may answer for a moment.
    await waitUntil(
      async () =>
        local.sentinel('SENTINEL', 'CKQUORUM', 'mymaster').then(
          () => false,
          () => true,
        ),
      WITHIN_MS,
      'CKQUORUM to refuse',
    );
    await expect(local.sentinel('SENTINEL', 'CKQUORUM', 'mymaster')).rejects.toThrow(
      `NOQUORUM ${MEMBERS.length} usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master`,
    );
    expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'quorum', QUORUM)).toBe('OK');
  });
});
