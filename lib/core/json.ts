/**
 * Text read as one JSON object (not an array, not null, not a scalar): the object, or why not. JSON.parse's
 * own message is dropped on purpose: it quotes the input, which may be a secret.
 */
export type JsonObjectRead =
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | { readonly ok: false; readonly problem: 'not-json' | 'not-object' };

export function readJsonObject(text: string): JsonObjectRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Also a RangeError from nesting deep enough to exhaust the parser's stack.
    return { ok: false, problem: 'not-json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, problem: 'not-object' };
  return { ok: true, value: value as Record<string, unknown> };
}
