import { describe, expect, it } from 'vitest';
import {
  alertAttributes,
  alertBody,
  alertSubject,
  asciiLine,
  DEFAULT_FILTER,
  eventMeaning,
  parseEventList,
  parseLevel,
  SUBJECT_MAX,
  shouldNotify,
} from '../../lib/adapters/aws/alerts.js';
import { MemoryNotifyMarkers } from '../../lib/adapters/memory/eventLog.js';
import { alertKey, toEventRecord } from '../../lib/eventLog.js';
import { describeNotifyMarkersContract } from '../contract/notifyMarkers.contract.js';

const rec = (type: string, payload: string, master: string | null) =>
  toEventRecord(
    { type, level: 'warning', payload, master, at: Date.parse('2026-11-25T08:23:08.350Z') },
    { sentinelId: 'sentinel-a', seq: 1, epoch: 2 },
  );

describe('alert texts', () => {
  it('subjects are printable ASCII, one line, at most 100 characters', () => {
    const long = rec('+sdown', 'master x 10.0.0.1 6379', `m-${'é'.repeat(200)}`);
    const subject = alertSubject(long);
    expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
    expect(subject).toMatch(/^\[lambda-sentinel\] m-\?+\.\.\.$/);
    expect(asciiLine('a\r\nb\tc', 100)).toBe('a b c');
  });

  it('a meaning for the main events, a fallback for a malformed +switch-master', () => {
    for (const type of [
      '+sdown',
      '+odown',
      '+try-failover',
      '+elected-leader',
      '+promoted-slave',
      '+failover-end',
      '+tilt',
    ]) {
      expect(eventMeaning({ type, payload: '' })).toMatch(/\.$/);
    }
    expect(eventMeaning({ type: '+switch-master', payload: 'broken' })).toMatch(/new address/);
    expect(eventMeaning({ type: '+made-up', payload: '' })).toBeUndefined();
  });

  it('the body starts with the Sentinel line and hides auth-pass values', () => {
    const body = alertBody(rec('+set', 'master m 10.0.0.1 6379 auth-pass topsecret', 'm'));
    expect(body.split('\n')[0]).toBe('+set master m 10.0.0.1 6379 auth-pass ******');
    expect(body).not.toContain('topsecret');
    expect(alertAttributes(rec('+sdown', 'x', 'm')).epoch).toEqual({ DataType: 'Number', StringValue: '2' });
  });
});

describe('notify filter', () => {
  it('level threshold, allow list, deny list (deny wins)', () => {
    const filter = {
      minLevel: 'warning' as const,
      include: new Set(['+slave']),
      exclude: new Set(['+vote-for-leader', '+slave']),
    };
    expect(shouldNotify({ type: '+sdown', level: 'warning' }, DEFAULT_FILTER)).toBe(true);
    expect(shouldNotify({ type: '+slave', level: 'notice' }, DEFAULT_FILTER)).toBe(false);
    expect(shouldNotify({ type: '+slave', level: 'notice' }, { ...filter, exclude: new Set() })).toBe(true);
    expect(shouldNotify({ type: '+slave', level: 'notice' }, filter)).toBe(false);
    expect(shouldNotify({ type: '+vote-for-leader', level: 'warning' }, filter)).toBe(false);
  });

  it('parses levels and event lists strictly', () => {
    expect(parseLevel(undefined, 'warning')).toBe('warning');
    expect(parseLevel(' Notice ', 'warning')).toBe('notice');
    expect(() => parseLevel('debug', 'warning')).toThrow(/not a level/);
    expect(parseEventList('+sdown, -odown +switch-master', 'X')).toEqual(
      new Set(['+sdown', '-odown', '+switch-master']),
    );
    expect(() => parseEventList('+sdown;rm', 'X')).toThrow(/X: "\+sdown;rm"/);
  });
});

describe('alert keys: what makes two events the same alert', () => {
  const of = (
    type: string,
    payload: string,
    master: string | null,
    sentinelId: string,
    epoch: number | null,
  ) =>
    alertKey(
      toEventRecord({ type, level: 'warning', payload, master, at: 1 }, { sentinelId, seq: 1, epoch }),
    );

  it('an event about a master is one fact whichever sentinel saw it, per epoch', () => {
    const payload = 'mymaster 10.0.0.1 6379 10.0.0.2 6379';
    expect(of('+switch-master', payload, 'mymaster', 'sentinel-a', 3)).toBe(
      of('+switch-master', payload, 'mymaster', 'sentinel-b', 3),
    );
    expect(of('+switch-master', payload, 'mymaster', 'sentinel-a', 3)).not.toBe(
      of('+switch-master', payload, 'mymaster', 'sentinel-a', 4),
    );
  });

  it('an event without a master (TILT) is about the sentinel that emitted it', () => {
    expect(of('+tilt', '#tilt mode entered', null, 'sentinel-a', null)).not.toBe(
      of('+tilt', '#tilt mode entered', null, 'sentinel-b', null),
    );
  });
});

describeNotifyMarkersContract('memory', () => new MemoryNotifyMarkers());
