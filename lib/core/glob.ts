/**
 * Redis's glob (`stringmatchlen`): `*` any run, `?` one character, `[abc]`, `[^abc]`, `[a-z]` (a reversed
 * range `[z-a]` is the same range), `\x` a literal x (also inside brackets). An unclosed `[` takes the
 * rest of the pattern as its set, and a trailing `\` is a literal backslash, as in Redis.
 *
 * Why not a RegExp: a pattern is chosen by whoever sends PSUBSCRIBE or SENTINEL RESET, and a translated
 * `?*?*?*…Z` backtracks exponentially in V8's engine, freezing the event loop the sentinels share. Here the
 * pattern is compiled into tokens that each consume exactly one character, plus stars; matching then
 * needs only the last star to restart from, so it takes at most pattern × text steps, whatever the input.
 */

type Token =
  | { readonly kind: 'star' }
  | { readonly kind: 'any' }
  | { readonly kind: 'char'; readonly code: number }
  | {
      readonly kind: 'set';
      readonly negated: boolean;
      readonly chars: ReadonlySet<number>;
      readonly ranges: ReadonlyArray<readonly [number, number]>;
    };

const BACKSLASH = 0x5c;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;

/** Compiled patterns, by pattern text: PSUBSCRIBE patterns are matched on every published event. */
const compiled = new Map<string, readonly Token[]>();
const MAX_COMPILED = 1_024;

function compile(pattern: string): readonly Token[] {
  const cached = compiled.get(pattern);
  if (cached !== undefined) return cached;
  const tokens: Token[] = [];
  const n = pattern.length;
  let i = 0;
  while (i < n) {
    const c = pattern.charCodeAt(i);
    if (c === 0x2a /* * */) {
      // Consecutive stars are one star.
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
      i++;
    } else if (c === 0x3f /* ? */) {
      tokens.push({ kind: 'any' });
      i++;
    } else if (c === 0x5b /* [ */) {
      i++;
      const negated = i < n && pattern.charCodeAt(i) === CARET;
      if (negated) i++;
      const chars = new Set<number>();
      const ranges: Array<readonly [number, number]> = [];
      while (i < n) {
        const d = pattern.charCodeAt(i);
        if (d === BACKSLASH && i + 1 < n) {
          chars.add(pattern.charCodeAt(i + 1));
          i += 2;
        } else if (d === CLOSE) {
          i++;
          break;
        } else if (i + 2 < n && pattern.charCodeAt(i + 1) === DASH) {
          const a = d;
          const b = pattern.charCodeAt(i + 2);
          ranges.push(a <= b ? [a, b] : [b, a]);
          i += 3;
        } else {
          chars.add(d);
          i++;
        }
      }
      tokens.push({ kind: 'set', negated, chars, ranges });
    } else if (c === BACKSLASH && i + 1 < n) {
      tokens.push({ kind: 'char', code: pattern.charCodeAt(i + 1) });
      i += 2;
    } else {
      tokens.push({ kind: 'char', code: c });
      i++;
    }
  }
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(pattern, tokens);
  return tokens;
}

function matchesOne(token: Token, code: number): boolean {
  switch (token.kind) {
    case 'any':
      return true;
    case 'char':
      return token.code === code;
    case 'set': {
      let inSet = token.chars.has(code);
      for (const [from, to] of token.ranges) if (!inSet && code >= from && code <= to) inSet = true;
      return inSet !== token.negated;
    }
    case 'star':
      return false;
  }
}

/** Whether `text` matches the Redis glob `pattern` (case-sensitive), in at most pattern × text steps. */
export function globMatch(pattern: string, text: string): boolean {
  return globMatchCounted(pattern, text).matched;
}

/** globMatch, also saying how many steps it took (the bound is what the tests check, not a clock). */
export function globMatchCounted(pattern: string, text: string): { matched: boolean; steps: number } {
  const tokens = compile(pattern);
  let steps = 0;
  let t = 0;
  let s = 0;
  // Where the last star was, and how much of the text it has swallowed so far.
  let starToken = -1;
  let starText = 0;
  while (s < text.length) {
    steps++;
    const token = tokens[t];
    if (token !== undefined && token.kind === 'star') {
      starToken = t++;
      starText = s;
    } else if (token !== undefined && matchesOne(token, text.charCodeAt(s))) {
      t++;
      s++;
    } else if (starToken >= 0) {
      // Let the last star swallow one more character and retry what follows it. Earlier stars never
      // need revisiting: every other token consumes exactly one character.
      t = starToken + 1;
      s = ++starText;
    } else {
      return { matched: false, steps };
    }
  }
  while (tokens[t]?.kind === 'star') t++;
  return { matched: t === tokens.length, steps };
}
