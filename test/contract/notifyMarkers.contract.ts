/**
 * The NotifyMarkers contract (lib/eventLog.ts) as one suite that every implementation runs: the in-memory
 * markers (test/unit/notifyAlerts.test.ts) and the DynamoDB markers on DynamoDB Local, whose claims are
 * conditional writes (test/integration/notify.test.ts). Every test uses fresh keys and event ids.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AlertClaimRequest, NotifyMarkers } from '../../lib/eventLog.js';

const WINDOW_MS = 60_000;
const T0 = 1_795_596_361_896;

export function describeNotifyMarkersContract(name: string, markersUnderTest: () => NotifyMarkers): void {
  describe(`${name}: NotifyMarkers contract`, () => {
    /** A fresh alert key, and claim requests of events of it (three sentinels' copies of one fact). */
    function alert(action = 'sns') {
      const key = `+switch-master m-${randomUUID()} 10.0.0.1 6379 10.0.0.2 6379 epoch 3`;
      const event = (id: string, at = T0, now = at + 100): AlertClaimRequest => ({
        key,
        action,
        eventId: `${id}-${randomUUID().slice(0, 8)}`,
        at,
        windowMs: WINDOW_MS,
        now,
        holdUntil: now + 30_000,
      });
      return { key, event };
    }

    it('done markers: done after mark, per action', async () => {
      const markers = markersUnderTest();
      const id = `e-${randomUUID()}`;
      expect(await markers.done(id)).toEqual(new Set());
      await markers.mark(id, 'sns', T0);
      await markers.mark(id, 'sns', T0);
      await markers.mark(id, 'route53', T0);
      expect(await markers.done(id)).toEqual(new Set(['sns', 'route53']));
      expect(await markers.done(`e-${randomUUID()}`)).toEqual(new Set());
    });

    it('the first copy claims; the others wait while it is pending and skip once it is sent', async () => {
      const markers = markersUnderTest();
      const { event } = alert();
      const a = event('a');
      const b = event('b', T0 + 5);
      expect(await markers.claim(a)).toEqual({ status: 'claimed' });
      expect(await markers.claim(b)).toEqual({ status: 'pending', by: a.eventId, until: a.holdUntil });
      expect(await markers.confirm(a)).toBe(true);
      expect(await markers.claim(b)).toEqual({ status: 'sent', by: a.eventId });
      // The sender's own redelivery learns that it is done, whatever the window.
      expect(await markers.claim({ ...a, now: T0 + 3_600_000, holdUntil: T0 + 3_630_000 })).toEqual({
        status: 'sent',
        by: a.eventId,
      });
    });

    it('a released claim holds back nobody: another copy, or the same event retried, takes it at once', async () => {
      const markers = markersUnderTest();
      const { event } = alert();
      const a = event('a');
      const b = event('b', T0 + 5);
      expect(await markers.claim(a)).toEqual({ status: 'claimed' });
      await markers.release(a);
      expect(await markers.claim(b)).toEqual({ status: 'claimed' });
      // b holds it now: a's late release is not a's to make, and a's retry waits for b.
      await markers.release(a);
      expect(await markers.claim(a)).toMatchObject({ status: 'pending', by: b.eventId });
      await markers.release(b);
      expect(await markers.claim(a)).toEqual({ status: 'claimed' });
      expect(await markers.confirm(a)).toBe(true);
      expect(await markers.claim(b)).toEqual({ status: 'sent', by: a.eventId });
    });

    it('a pending claim whose holder never finished lapses at its holdUntil; the holder cannot confirm after that', async () => {
      const markers = markersUnderTest();
      const { event } = alert();
      const a = event('a');
      expect(await markers.claim(a)).toEqual({ status: 'claimed' });
      const before = event('b', T0 + 5, a.holdUntil);
      expect(await markers.claim(before)).toMatchObject({ status: 'pending', by: a.eventId });
      const after = { ...before, now: a.holdUntil + 1, holdUntil: a.holdUntil + 30_001 };
      expect(await markers.claim(after)).toEqual({ status: 'claimed' });
      expect(await markers.confirm(a)).toBe(false);
      expect(await markers.confirm(after)).toBe(true);
      expect(await markers.claim(event('c', T0 + 10))).toEqual({ status: 'sent', by: after.eventId });
    });

    it('an event that crashed holding its claim claims it again on redelivery', async () => {
      const markers = markersUnderTest();
      const { event } = alert();
      const a = event('a');
      expect(await markers.claim(a)).toEqual({ status: 'claimed' });
      expect(await markers.claim({ ...a, now: a.now + 1_000 })).toEqual({ status: 'claimed' });
    });

    it('the window: a sent claim holds back copies within windowMs of its event, not a later fact', async () => {
      const markers = markersUnderTest();
      const { event } = alert();
      const a = event('a');
      await markers.claim(a);
      await markers.confirm(a);
      expect(await markers.claim(event('b', T0 + WINDOW_MS))).toMatchObject({ status: 'sent' });
      const later = event('c', T0 + WINDOW_MS + 1);
      expect(await markers.claim(later)).toEqual({ status: 'claimed' });
      expect(await markers.confirm(later)).toBe(true);
      expect(await markers.claim(event('d', T0 + WINDOW_MS + 2))).toEqual({
        status: 'sent',
        by: later.eventId,
      });
    });

    it('claims are per action: a sent alert does not stop another action of the same fact', async () => {
      const markers = markersUnderTest();
      const sns = alert('sns');
      const a = sns.event('a');
      await markers.claim(a);
      await markers.confirm(a);
      const route53 = { ...a, action: 'route53', eventId: `b-${randomUUID()}` };
      expect(await markers.claim(route53)).toEqual({ status: 'claimed' });
    });

    it('of three copies claiming at once, exactly one gets the claim', async () => {
      const markers = markersUnderTest();
      const { event } = alert();
      const copies = [event('a'), event('b', T0 + 1), event('c', T0 + 2)];
      const results = await Promise.all(copies.map((c) => markers.claim(c)));
      expect(results.filter((r) => r.status === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'pending')).toHaveLength(2);
    });

    it('a key of any length (a long master name and payload) can be claimed', async () => {
      const markers = markersUnderTest();
      const a = { ...alert().event('a'), key: `+sdown m-${randomUUID()}-${'x'.repeat(10_000)} epoch 1` };
      expect(await markers.claim(a)).toEqual({ status: 'claimed' });
      expect(await markers.confirm(a)).toBe(true);
      expect(await markers.claim({ ...a, eventId: 'other' })).toEqual({ status: 'sent', by: a.eventId });
    });
  });
}
