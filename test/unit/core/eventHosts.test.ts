/**
 * withHostsAsIps: events as Sentinel shows them with `announce-hostnames no` — every instance address
 * given as a host name, by its IP address; nothing else in the payload touched.
 */
import { describe, expect, it } from 'vitest';
import { makeEvent, withHostsAsIps } from '../../../lib/core/events.js';

const known = new Map([
  ['localhost', '127.0.0.1'],
  ['redis-a.internal', '10.0.0.5'],
]);
const ipOf = (host: string) => known.get(host);
const shown = (type: Parameters<typeof makeEvent>[0], payload: string, master: string | null = 'm') =>
  withHostsAsIps(makeEvent(type, payload, master, 1), ipOf).payload;

describe('withHostsAsIps', () => {
  it("replaces each host of `%@`, a replica's <host>:<port> name and +switch-master's addresses", () => {
    expect(shown('+monitor', 'master m localhost 6379 quorum 2')).toBe('master m 127.0.0.1 6379 quorum 2');
    expect(shown('+slave', 'slave redis-a.internal:6380 redis-a.internal 6380 @ m localhost 6379')).toBe(
      'slave 10.0.0.5:6380 10.0.0.5 6380 @ m 127.0.0.1 6379',
    );
    expect(shown('+switch-master', 'm localhost 6379 10.0.0.7 6380')).toBe('m 127.0.0.1 6379 10.0.0.7 6380');
  });

  it('keeps a master named like a host, unknown names, and payloads without addresses', () => {
    // The master's name is followed by its host, not a port: only the address changes.
    expect(shown('+switch-master', 'localhost localhost 6379 127.0.0.1 6380', 'localhost')).toBe(
      'localhost 127.0.0.1 6379 127.0.0.1 6380',
    );
    expect(shown('+sdown', 'master m unresolved.example 6379')).toBe('master m unresolved.example 6379');
    expect(shown('+new-epoch', '7', null)).toBe('7');
    expect(shown('+odown', 'master m 10.0.0.5 6379 #quorum 2/2')).toBe('master m 10.0.0.5 6379 #quorum 2/2');
  });

  it('returns the same event when nothing changes', () => {
    const event = makeEvent('+sdown', 'master m 10.0.0.5 6379', 'm', 1);
    expect(withHostsAsIps(event, ipOf)).toBe(event);
  });
});
