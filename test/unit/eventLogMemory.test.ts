import { describe, expect, it } from 'vitest';
import { MemoryEventLog, MemoryNotifyMarkers } from '../../lib/adapters/memory/eventLog.js';
import type { SentinelConfig, SentinelEvent } from '../../lib/core/types.js';
import {
  type EventLog,
  type EventRecord,
  EventRecorder,
  eventSortKey,
  REDACTED,
  redactSecrets,
  redactText,
  secretsOf,
} from '../../lib/eventLog.js';
import { StoreUnavailableError } from '../../lib/ports.js';
import { CONTRACT_SECRET, describeEventLogContract } from '../contract/eventLog.contract.js';

describeEventLogContract('MemoryEventLog', async () => {
  const log = new MemoryEventLog({ secrets: [CONTRACT_SECRET] });
  return { log, rawDump: async () => JSON.stringify(log.all()) };
});

const ev = (type: string, payload: string, at = 1_700_000_000_000): SentinelEvent => ({
  type,
  level: 'warning',
  payload,
  master: 'mymaster',
  at,
});

describe('redactSecrets', () => {
  it('hides a known secret anywhere, and any auth-pass value even when the secret is not known', () => {
    expect(redactText('master m 10.0.0.1 6379 auth-pass hunter2', [])).toBe(
      `master m 10.0.0.1 6379 auth-pass ${REDACTED}`,
    );
    expect(redactText('error: WRONGPASS for hunter2hunter2', ['hunter2'])).toBe(
      `error: WRONGPASS for ${REDACTED}${REDACTED}`,
    );
    // Longest first: a secret containing another is hidden whole.
    expect(redactText('x abcdef y', ['abc', 'abcdef'])).toBe(`x ${REDACTED} y`);
    expect(redactText('AUTH-PASS s3cret', [])).toBe(`AUTH-PASS ${REDACTED}`);
    expect(redactText(`auth-pass ${REDACTED}`, [])).toBe(`auth-pass ${REDACTED}`);
    expect(redactText('nothing here', ['', 'zzz'])).toBe('nothing here');
  });

  it('returns the same object when nothing is secret, a copy otherwise', () => {
    const clean = ev('+sdown', 'master mymaster 10.0.0.1 6379');
    expect(redactSecrets(clean, ['pw'])).toBe(clean);
    const dirty = ev('+set', 'master mymaster 10.0.0.1 6379 auth-pass pw-123');
    const safe = redactSecrets(dirty, ['pw-123']);
    expect(safe.payload).toBe(`master mymaster 10.0.0.1 6379 auth-pass ${REDACTED}`);
    expect(dirty.payload).toContain('pw-123');
  });

  it('secretsOf collects every master auth-pass', () => {
    const config = {
      global: {},
      masters: [{ authPass: 'one' }, {}, { authPass: 'two' }],
    } as unknown as SentinelConfig;
    expect(secretsOf(config)).toEqual(['one', 'two']);
  });
});

describe('eventSortKey', () => {
  it('orders by time numerically, then sentinel, then sequence', () => {
    const key = (at: number, sentinelId: string, seq: number) => eventSortKey({ at, sentinelId, seq });
    expect(key(999, 'a', 0) < key(1000, 'a', 0)).toBe(true);
    expect(key(1000, 'a', 9) < key(1000, 'a', 10)).toBe(true);
    expect(key(1000, 'a', 99) < key(1000, 'b', 0)).toBe(true);
  });
});

describe('EventRecorder', () => {
  const noSleep = async () => {};

  it('appends in emission order with increasing sequence numbers and the given epoch', async () => {
    const log = new MemoryEventLog();
    const recorder = new EventRecorder({ sentinelId: 'sentinel-a', log, sleep: noSleep, firstSeq: 0 });
    const a = recorder.record(ev('+sdown', 'master mymaster 10.0.0.1 6379'), 0);
    const b = recorder.record(ev('+odown', 'master mymaster 10.0.0.1 6379 #quorum 2/2'), 0);
    const c = recorder.record(ev('+new-epoch', '1'), 1);
    expect([a.seq, b.seq, c.seq]).toEqual([0, 1, 2]);
    expect(c.id).toBe('1700000000000-sentinel-a-2');
    await recorder.flush();
    expect(log.all().map((r) => [r.type, r.epoch])).toEqual([
      ['+sdown', 0],
      ['+odown', 0],
      ['+new-epoch', 1],
    ]);
  });

  it('retries a failed append with the same record, so nothing is stored twice', async () => {
    const inner = new MemoryEventLog();
    let failures = 2;
    const seen: EventRecord[] = [];
    const flaky: EventLog = {
      append: async (r) => {
        seen.push(r);
        // The first attempt lands but its reply is lost (timeout): a retry must not duplicate it.
        await inner.append(r);
        if (failures-- > 0) throw new StoreUnavailableError('timeout');
      },
      list: (q) => inner.list(q),
    };
    const recorder = new EventRecorder({ sentinelId: 'sentinel-a', log: flaky, sleep: noSleep });
    recorder.record(ev('+sdown', 'master mymaster 10.0.0.1 6379'), null);
    await recorder.flush();
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((r) => r.id)).size).toBe(1);
    expect(inner.all()).toHaveLength(1);
  });

  it('never throws and never blocks: gives up after maxAttempts and reports the drop', async () => {
    const log = new MemoryEventLog();
    log.setAvailable(false);
    const drops: string[] = [];
    const recorder = new EventRecorder({
      sentinelId: 'sentinel-a',
      log,
      sleep: noSleep,
      maxAttempts: 3,
      onDrop: (r, reason) => drops.push(`${r.type}: ${reason}`),
    });
    expect(() => recorder.record(ev('+sdown', 'x'), null)).not.toThrow();
    await recorder.flush();
    expect(drops).toEqual([expect.stringMatching(/^\+sdown: append failed 3 times: .*unavailable/)]);
    log.setAvailable(true);
    recorder.record(ev('-sdown', 'x'), null);
    await recorder.flush();
    expect(log.all().map((r) => r.type)).toEqual(['-sdown']);
  });

  it('drops the oldest when the queue is full', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const inner = new MemoryEventLog();
    const slow: EventLog = {
      append: async (r) => {
        await gate;
        await inner.append(r);
      },
      list: (q) => inner.list(q),
    };
    const drops: string[] = [];
    const recorder = new EventRecorder({
      sentinelId: 's',
      log: slow,
      sleep: noSleep,
      maxQueue: 2,
      onDrop: (r) => drops.push(r.payload),
    });
    for (const p of ['1', '2', '3', '4']) recorder.record(ev('+sdown', p), null);
    expect(recorder.pending).toBe(2);
    release();
    await recorder.flush();
    // '1' was already being appended; '2' was pushed out by '4'.
    expect(drops).toEqual(['2']);
    expect(inner.all().map((r) => r.payload)).toEqual(['1', '3', '4']);
  });
});

describe('EventRecorder.flush with a deadline', () => {
  it('returns false when the store is still failing at the deadline, true once drained', async () => {
    const log = new MemoryEventLog();
    log.setAvailable(false);
    const recorder = new EventRecorder({
      sentinelId: 's',
      log,
      baseDelayMs: 20,
      maxDelayMs: 20,
      maxAttempts: 100,
    });
    recorder.record(ev('+sdown', 'x'), null);
    expect(await recorder.flush(60)).toBe(false);
    log.setAvailable(true);
    expect(await recorder.flush(2_000)).toBe(true);
    expect(log.all()).toHaveLength(1);
  });
});

describe('MemoryNotifyMarkers', () => {
  it('remembers actions per event', async () => {
    const markers = new MemoryNotifyMarkers();
    expect(await markers.done('e1')).toEqual(new Set());
    await markers.mark('e1', 'sns');
    await markers.mark('e1', 'sns');
    await markers.mark('e1', 'route53');
    expect(await markers.done('e1')).toEqual(new Set(['sns', 'route53']));
    expect(await markers.done('e2')).toEqual(new Set());
  });
});
