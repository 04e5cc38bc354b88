/**
 * A sentinel's run id: the 40-hex id SENTINEL MYID, SENTINEL SENTINELS and `+vote-for-leader` report,
 * derived from its configured id so it is stable across restarts and the same on every machine.
 *
 * The digest is SHA-1 written out here rather than taken from node:crypto because the decision core
 * (lib/core/decide.ts) names the leader by its run id in `+vote-for-leader`, and lib/core imports nothing
 * outside itself. It is an identifier, not a security control: nothing relies on SHA-1 being hard to
 * invert. test/unit/core/runId.test.ts checks it against node:crypto.
 */
import type { SentinelId } from './types.js';

/** Prefixed so that a run id reveals nothing reusable about the configured id. */
const RUN_ID_PREFIX = 'lambda-sentinel:';

export function runIdOf(sentinelId: SentinelId): string {
  return sha1Hex(new TextEncoder().encode(`${RUN_ID_PREFIX}${sentinelId}`));
}

/** SHA-1 (FIPS 180-4) of `bytes`, as 40 lower-case hex digits. */
export function sha1Hex(bytes: Uint8Array): string {
  const bitLength = bytes.length * 8;
  // Message, a 0x80 byte, zeros, then the 64-bit big-endian length: a multiple of 64 bytes.
  const padded = new Uint8Array((((bytes.length + 8) >> 6) + 1) << 6);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLength / 0x1_0000_0000));
  view.setUint32(padded.length - 4, bitLength >>> 0);

  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w = new Uint32Array(80);
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
    for (let t = 16; t < 80; t++) {
      const x = (w[t - 3] as number) ^ (w[t - 8] as number) ^ (w[t - 14] as number) ^ (w[t - 16] as number);
      w[t] = (x << 1) | (x >>> 31);
    }
    let [a, b, c, d, e] = h as [number, number, number, number, number];
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + (w[t] as number)) >>> 0;
      e = d;
      d = c;
      c = ((b << 30) | (b >>> 2)) >>> 0;
      b = a;
      a = temp;
    }
    h[0] = ((h[0] as number) + a) >>> 0;
    h[1] = ((h[1] as number) + b) >>> 0;
    h[2] = ((h[2] as number) + c) >>> 0;
    h[3] = ((h[3] as number) + d) >>> 0;
    h[4] = ((h[4] as number) + e) >>> 0;
  }
  return h.map((word) => word.toString(16).padStart(8, '0')).join('');
}
