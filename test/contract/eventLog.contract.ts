/**
 * The EventLog contract (lib/eventLog.ts) as one suite that every implementation runs: the in-memory log
 * (test/unit/eventLogMemory.test.ts) and the DynamoDB log on DynamoDB Local
 * (test/integration/eventLogDynamo.test.ts). Every test uses fresh master names, so logs may share a table;
 * tests that list across all masters only look at records they wrote.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SentinelEvent } from '../../lib/core/types.js';
import {
  EVENT_RETENTION_SECONDS,
  type EventLog,
  type EventRecord,
  LIST_DEFAULT_LIMIT,
  REDACTED,
  toEventRecord,
} from '../../lib/eventLog.js';

export interface EventLogUnderTest {
  readonly log: EventLog;
  /** The raw stored form of every record (for the "no secret stored" check), if the log can give it. */
  readonly rawDump?: () => Promise<string>;
  readonly cleanup?: () => Promise<void>;
}

/** The auth-pass value the logs under test are constructed with. */
export const CONTRACT_SECRET = 'Xk9-contract-secret-pass';
/** Times relative to the real clock: logs filter expired records with Date.now(). */
const NOW = Date.now();

const fresh = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

function event(type: string, master: string | null, at: number, payload?: string): SentinelEvent {
  return {
    type,
    level: 'warning',
    payload: payload ?? (master ? `master ${master} 10.0.0.1 6379` : '#tilt mode entered'),
    master,
    at,
  };
}

let seqCounter = 1_000_000;
function record(
  e: SentinelEvent,
  sentinelId = 'sentinel-a',
  epoch: number | null = 1,
  seq = seqCounter++,
): EventRecord {
  return toEventRecord(e, { sentinelId, seq, epoch });
}

export function describeEventLogContract(name: string, make: () => Promise<EventLogUnderTest>): void {
  describe(`EventLog contract: ${name}`, () => {
    let under: EventLogUnderTest;
    let log: EventLog;
    beforeAll(async () => {
      under = await make();
      log = under.log;
    });
    afterAll(async () => {
      await under?.cleanup?.();
    });

    it('reads back what was appended, with every field', async () => {
      const master = fresh('m');
      const r = record(event('+sdown', master, NOW - 1000), 'sentinel-b', 7);
      await log.append(r);
      expect(await log.list({ master })).toEqual([r]);
      expect(r.ttl).toBe(Math.floor((NOW - 1000) / 1000) + EVENT_RETENTION_SECONDS);
      expect(r.id).toBe(`${NOW - 1000}-sentinel-b-${r.seq}`);
    });

    it('appending the same record twice stores it once (a retried append is a no-op)', async () => {
      const master = fresh('m');
      const r = record(event('+odown', master, NOW - 500, `master ${master} 10.0.0.1 6379 #quorum 2/2`));
      await log.append(r);
      await log.append(r);
      await Promise.all([log.append(r), log.append(r)]);
      expect(await log.list({ master })).toEqual([r]);
    });

    it('lists newest first, by time, then sentinel, then sequence', async () => {
      const master = fresh('m');
      const t = NOW - 10_000;
      const rs = [
        record(event('+sdown', master, t), 'sentinel-a', 0, 1),
        record(event('+sdown', master, t + 5), 'sentinel-b', 0, 2),
        record(event('+odown', master, t + 10), 'sentinel-a', 0, 3),
        record(event('+new-epoch', master, t + 10, '1'), 'sentinel-a', 1, 4),
        record(event('+try-failover', master, t + 10), 'sentinel-a', 1, 5),
        record(event('+vote-for-leader', master, t + 10, 'sentinel-a 1'), 'sentinel-b', 1, 6),
        // A larger seq with more digits must still sort after (padding, not string order of numbers).
        record(event('+elected-leader', master, t + 10), 'sentinel-a', 1, 10),
      ];
      for (const r of [...rs].reverse()) await log.append(r);
      const listed = await log.list({ master });
      expect(listed.map((r) => r.id)).toEqual(
        [rs[5], rs[6], rs[4], rs[3], rs[2], rs[1], rs[0]].map((r) => r?.id),
      );
    });

    it('filters by master, and lists every master without one (masterless events included)', async () => {
      const m1 = fresh('m1');
      const m2 = fresh('m2');
      const t = NOW - 3_000;
      const a = record(event('+sdown', m1, t));
      const b = record(event('+sdown', m2, t + 1));
      const tilt = record(event('+tilt', null, t + 2));
      for (const r of [a, b, tilt]) await log.append(r);
      expect(await log.list({ master: m1 })).toEqual([a]);
      expect(await log.list({ master: m2 })).toEqual([b]);
      const all = await log.list({ since: t });
      const mine = all.filter((r) => [a.id, b.id, tilt.id].includes(r.id));
      expect(mine).toEqual([tilt, b, a]);
      expect(mine[0]?.master).toBeNull();
    });

    it('since is inclusive, limit caps the newest', async () => {
      const master = fresh('m');
      const t = NOW - 60_000;
      const rs = Array.from({ length: 5 }, (_, i) => record(event('+sdown', master, t + i * 1000)));
      for (const r of rs) await log.append(r);
      expect((await log.list({ master, since: t + 2000 })).map((r) => r.at)).toEqual([
        t + 4000,
        t + 3000,
        t + 2000,
      ]);
      expect((await log.list({ master, limit: 2 })).map((r) => r.at)).toEqual([t + 4000, t + 3000]);
      expect(await log.list({ master, since: t + 10_000 })).toEqual([]);
      await expect(log.list({ master, limit: 0 })).rejects.toThrow(RangeError);
    });

    it('the default limit is LIST_DEFAULT_LIMIT', async () => {
      const master = fresh('m');
      const t = NOW - 200_000;
      const rs = Array.from({ length: LIST_DEFAULT_LIMIT + 5 }, (_, i) =>
        record(event('+sdown', master, t + i)),
      );
      // A few at a time: a local DynamoDB on a busy 2-core machine, with the fail-fast client, would
      // time out on a hundred concurrent writes.
      for (let i = 0; i < rs.length; i += 8) await Promise.all(rs.slice(i, i + 8).map((r) => log.append(r)));
      const listed = await log.list({ master });
      expect(listed).toHaveLength(LIST_DEFAULT_LIMIT);
      expect(listed[0]?.at).toBe(t + LIST_DEFAULT_LIMIT + 4);
    });

    it('never returns an expired record, even if it is still stored', async () => {
      const master = fresh('m');
      const old = record(event('+sdown', master, NOW - (EVENT_RETENTION_SECONDS + 60) * 1000));
      const recent = record(event('-sdown', master, NOW - 1000));
      await log.append(old);
      await log.append(recent);
      expect(await log.list({ master })).toEqual([recent]);
    });

    it('stores no secret: auth-pass values are redacted before they are stored', async () => {
      const master = fresh('m');
      const set = record(
        event('+set', master, NOW - 100, `master ${master} 10.0.0.1 6379 auth-pass ${CONTRACT_SECRET}`),
      );
      // A secret elsewhere in a payload (say, quoted in an error) is hidden too.
      const other = record(
        event('-failover-abort-slave-timeout', master, NOW - 50, `master ${master} x:${CONTRACT_SECRET}`),
      );
      await log.append(set);
      await log.append(other);
      const listed = await log.list({ master });
      expect(listed.map((r) => r.payload)).toEqual([
        `master ${master} x:${REDACTED}`,
        `master ${master} 10.0.0.1 6379 auth-pass ${REDACTED}`,
      ]);
      expect(JSON.stringify(listed)).not.toContain(CONTRACT_SECRET);
      if (under.rawDump) expect(await under.rawDump()).not.toContain(CONTRACT_SECRET);
    });
  });
}
