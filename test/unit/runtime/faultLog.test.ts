import { describe, expect, it } from 'vitest';
import type { SentinelEvent } from '../../../lib/core/types.js';
import { type EventLog, EventRecorder } from '../../../lib/eventLog.js';
import {
  FAULT,
  jsonLinesLog,
  type Log,
  logDroppedEvent,
  REPEATED_FAILURE_LOG_INTERVAL_MS,
  RepeatedFailureLog,
} from '../../../lib/runtime/log.js';

interface Line {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

function collect(): { log: Log; lines: Line[] } {
  const lines: Line[] = [];
  return { log: (level, message, fields) => lines.push({ level, message, fields }), lines };
}

describe('RepeatedFailureLog', () => {
  it('logs the first failure, then at most one line per interval with a count, then the recovery', () => {
    let now = 0;
    const { log, lines } = collect();
    const failures = new RepeatedFailureLog(log, () => now);
    const fail = () => failures.failed('mymaster', 'tick failed for master', { master: 'mymaster' });

    fail();
    expect(lines).toEqual([
      { level: 'error', message: 'tick failed for master', fields: { master: 'mymaster', failures: 1 } },
    ]);
    // A tick every 100 ms for just under the interval: not one more line.
    for (now = 100; now < REPEATED_FAILURE_LOG_INTERVAL_MS; now += 100) fail();
    expect(lines).toHaveLength(1);
    const failuresSoFar = 1 + (REPEATED_FAILURE_LOG_INTERVAL_MS - 100) / 100;

    now = REPEATED_FAILURE_LOG_INTERVAL_MS;
    fail();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toEqual({
      level: 'error',
      message: 'tick failed for master (repeated)',
      fields: {
        master: 'mymaster',
        failures: failuresSoFar + 1,
        failuresSinceLastLine: failuresSoFar,
        failingForMs: REPEATED_FAILURE_LOG_INTERVAL_MS,
      },
    });
    // The next line is an interval after the last one, not after the first failure.
    now += REPEATED_FAILURE_LOG_INTERVAL_MS - 1;
    fail();
    expect(lines).toHaveLength(2);
    now += 1;
    fail();
    expect(lines).toHaveLength(3);
    expect(lines[2]?.fields?.failuresSinceLastLine).toBe(2);

    now += 500;
    failures.recovered('mymaster', 'tick for master works again', { master: 'mymaster' });
    failures.recovered('mymaster', 'tick for master works again', { master: 'mymaster' });
    expect(lines).toHaveLength(4);
    expect(lines[3]).toEqual({
      level: 'info',
      message: 'tick for master works again',
      fields: { master: 'mymaster', failures: failuresSoFar + 3, failingForMs: now },
    });
    expect(failures.isFailing('mymaster')).toBe(false);

    // A new failure after the recovery is a first failure again.
    fail();
    expect(lines[4]?.fields?.failures).toBe(1);
  });

  it('keeps each key apart, and says nothing for a key that never failed', () => {
    const { log, lines } = collect();
    const failures = new RepeatedFailureLog(log, () => 0);
    failures.recovered('a', 'ok again', {});
    failures.failed('a', 'failed', { master: 'a' });
    failures.failed('b', 'failed', { master: 'b' });
    failures.failed('a', 'failed', { master: 'a' });
    expect(lines.map((l) => l.fields?.master)).toEqual(['a', 'b']);
    failures.forget('a');
    failures.recovered('a', 'ok again', {});
    expect(lines).toHaveLength(2);
  });
});

describe('logDroppedEvent with the event recorder', () => {
  const SECRET = 'pw-in-a-payload-9c1';
  const event = (type: string, payload: string): SentinelEvent => ({
    type,
    level: 'warning',
    payload,
    master: 'mymaster',
    at: 1_700_000_000_000,
  });

  it('logs a fault line for an event whose appends all failed, without its payload', async () => {
    const written: string[] = [];
    const failing: EventLog = {
      append: async () => {
        throw new Error(`table unavailable (auth-pass ${SECRET})`);
      },
      list: async () => [],
    };
    const recorder = new EventRecorder({
      sentinelId: 'sentinel-a',
      log: failing,
      sleep: async () => {},
      onDrop: logDroppedEvent(
        jsonLinesLog((line) => written.push(line), { sentinel: 'sentinel-a' }),
        [SECRET],
      ),
    });
    const record = recorder.record(event('+set', `master mymaster 10.0.0.1 6379 auth-pass ${SECRET}`), 1);
    expect(await recorder.flush()).toBe(true);
    expect(written).toHaveLength(1);
    const line = JSON.parse(written[0] ?? '');
    expect(line).toMatchObject({
      level: 'error',
      fault: FAULT.eventDropped,
      event: '+set',
      master: 'mymaster',
      eventId: record.id,
      cause: 'append-failed',
    });
    expect(line.reason).toMatch(/^append failed 5 times: table unavailable/);
    expect(written[0]).not.toContain(SECRET);
    expect(written[0]).not.toContain('10.0.0.1 6379');
  });

  it('logs a fault line for each event pushed out of a full queue', async () => {
    const { log, lines } = collect();
    let release: () => void = () => {};
    const stored: string[] = [];
    const slow: EventLog = {
      append: async (record) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        stored.push(record.payload);
      },
      list: async () => [],
    };
    const recorder = new EventRecorder({
      sentinelId: 'sentinel-a',
      log: slow,
      maxQueue: 2,
      onDrop: logDroppedEvent(log, []),
    });
    // The first is being appended; the next two wait; the fourth pushes the oldest waiting one out.
    for (const n of [1, 2, 3, 4]) recorder.record(event('+sdown', `master m${n} 10.0.0.${n} 6379`), null);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toMatchObject({
      fault: FAULT.eventDropped,
      event: '+sdown',
      cause: 'queue-full',
      reason: 'queue full (2)',
    });
    for (let i = 0; i < 3; i++) {
      release();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(await recorder.flush(1_000)).toBe(true);
    expect(stored).toEqual(['master m1 10.0.0.1 6379', 'master m3 10.0.0.3 6379', 'master m4 10.0.0.4 6379']);
  });
});
