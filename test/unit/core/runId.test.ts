import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runIdOf, sha1Hex } from '../../../lib/core/runId.js';

const nodeSha1 = (bytes: Uint8Array): string => createHash('sha1').update(bytes).digest('hex');

describe('runIdOf (the run id SENTINEL MYID, SENTINELS and +vote-for-leader report)', () => {
  it('is SHA-1 of the prefixed id: the same 40-hex ids as before it moved into the core', () => {
    for (const id of ['sentinel-a', 'sentinel-b', 'sentinel-c', 'a', 'x'.repeat(40)]) {
      expect(runIdOf(id)).toBe(createHash('sha1').update(`lambda-sentinel:${id}`).digest('hex'));
      expect(runIdOf(id)).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it('matches node:crypto on every padding boundary and on multi-block inputs', () => {
    for (let length = 0; length <= 200; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + length) & 0xff);
      expect(sha1Hex(bytes)).toBe(nodeSha1(bytes));
    }
    expect(sha1Hex(new TextEncoder().encode('abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });
});
