/** Argument checks shared by the commands. Each returns null for text it does not accept. */

/** An ISO date or milliseconds since the epoch. */
export function parseTime(text: string): number | null {
  if (/^\d+$/.test(text)) return Number(text);
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : parsed;
}

/** A whole number in [min, max], written in decimal digits only. */
export function parseWhole(text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | null {
  if (!/^\d+$/.test(text)) return null;
  const value = Number(text);
  return value >= min && value <= max ? value : null;
}

/** The options that send a command straight to the table instead of the HTTP API. */
export function talksToTable(args: readonly string[]): boolean {
  return args.some((a) => /^--(dynamodb-endpoint|table)(=|$)/.test(a));
}
