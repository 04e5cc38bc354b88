import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatch, globMatchCounted } from '../../../lib/core/glob.js';

/**
 * A direct transcription of Redis's recursive stringmatchlen, exponential on purpose: the reference the
 * linear matcher must agree with on small inputs.
 */
function reference(p: string, s: string): boolean {
  let pi = 0;
  let si = 0;
  while (pi < p.length && si <= s.length) {
    const c = p[pi];
    if (c === '*') {
      while (p[pi + 1] === '*') pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k <= s.length; k++) if (reference(p.slice(pi + 1), s.slice(k))) return true;
      return false;
    }
    if (si === s.length) return false;
    if (c === '?') {
      si++;
    } else if (c === '[') {
      pi++;
      const not = p[pi] === '^';
      if (not) pi++;
      let match = false;
      for (;;) {
        if (p[pi] === '\\' && p.length - pi >= 2) {
          pi++;
          if (p[pi] === s[si]) match = true;
        } else if (p[pi] === ']') {
          break;
        } else if (pi >= p.length) {
          pi--;
          break;
        } else if (p.length - pi >= 3 && p[pi + 1] === '-') {
          let a = p.charCodeAt(pi);
          let b = p.charCodeAt(pi + 2);
          if (a > b) [a, b] = [b, a];
          const x = s.charCodeAt(si);
          if (x >= a && x <= b) match = true;
          pi += 2;
        } else if (p[pi] === s[si]) {
          match = true;
        }
        pi++;
      }
      if (not) match = !match;
      if (!match) return false;
      si++;
    } else {
      let literal = c;
      if (c === '\\' && p.length - pi >= 2) literal = p[++pi];
      if (literal !== s[si]) return false;
      si++;
    }
    pi++;
  }
  while (p[pi] === '*') pi++;
  return pi >= p.length && si === s.length;
}

describe('Redis glob', () => {
  it('answers as redis-server 7.0 does for KEYS on the same patterns (checked by hand against it)', () => {
    const keys = ['-odown', '+odown', 'bx', 'b', 'a\\', ']x', '[a-', 'x', 'cx'];
    const matching = (pattern: string) => keys.filter((k) => globMatch(pattern, k));
    expect(matching('[+-]odown')).toEqual([]);
    expect(matching('[z-a]x')).toEqual(['bx', 'cx']);
    expect(matching('[a-')).toEqual([]);
    expect(matching('a\\')).toEqual(['a\\']);
    expect(matching('[^+]odown')).toEqual(['-odown']);
    expect(matching('[ab\\]]x')).toEqual(['bx', ']x']);
    expect(matching('[+\\-]odown')).toEqual(['-odown', '+odown']);
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('?', '')).toBe(false);
    expect(globMatch('+switch-*', '+switch-master')).toBe(true);
  });

  it('agrees with a transcription of Redis’s recursive matcher', () => {
    const alphabet = fc.constantFrom('a', 'b', '-', '*', '?', '[', ']', '^', '\\');
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 8 }).map((a) => a.join('')),
        fc.array(fc.constantFrom('a', 'b', '-', ']', '\\', '['), { maxLength: 8 }).map((a) => a.join('')),
        (pattern, text) => globMatch(pattern, text) === reference(pattern, text),
      ),
      { numRuns: 20_000 },
    );
  });

  it('a pathological pattern takes at most pattern × text steps (a backtracking RegExp takes ~2^n)', () => {
    const pattern = '?*?*?*?*?*?*?*?*?*Z';
    const text = `+switch-master ${'a'.repeat(5_000)}`;
    const { matched, steps } = globMatchCounted(pattern, text);
    expect(matched).toBe(false);
    expect(steps).toBeLessThanOrEqual(pattern.length * text.length);
  });
});
