/**
 * Structured logging for the runtime. In Lambda the handler passes a Powertools Logger; locally a
 * JSON-lines logger writes to a stream. Either way: one record per line, fields as JSON.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export function jsonLinesLog(
  write: (line: string) => void,
  base: Record<string, unknown> = {},
  now: () => number = Date.now,
): Log {
  return (level, message, fields) => {
    write(`${JSON.stringify({ level, time: new Date(now()).toISOString(), ...base, message, ...fields })}\n`);
  };
}

export const silentLog: Log = () => {};

/** Turns an unknown thrown value into loggable fields (JSON.stringify of an Error gives `{}`). */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    return { error: { name: error.name, message: error.message, ...(cause ? { cause } : {}) } };
  }
  return { error: { message: String(error) } };
}
