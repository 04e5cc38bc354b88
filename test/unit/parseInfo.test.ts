import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyPingReply, parseInfo } from '../../lib/adapters/redis/parseInfo.js';
import type { ReplicationInfo } from '../../lib/core/types.js';

// Raw INFO replies captured from redis-server 7.0.15 by test/fixtures/info/capture.ts. If they are
// re-captured, the ports, run ids and offsets below change with them.
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'info');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

function parsed(text: string): ReplicationInfo {
  const result = parseInfo(text);
  if (!result.ok) throw new Error(`expected INFO to parse: ${result.reason}`);
  return result.info;
}

describe('parseInfo on real redis-server 7.0.15 replies', () => {
  it('fixtures keep the \\r\\n line ends Redis sends', () => {
    expect(fixture('master-2-replicas.txt')).toContain('\r\nrole:master\r\n');
  });

  it('master with 2 replicas', () => {
    expect(parsed(fixture('master-2-replicas.txt'))).toEqual({
      runId: '9c5fd136f95991becd5f644481d1311f65a5bce7',
      role: 'master',
      loading: false,
      masterHost: null,
      masterPort: null,
      masterLinkUp: false,
      masterLinkDownSinceMs: 0,
      replicaPriority: null,
      replicaOffset: null,
      replicaAnnounced: true,
      masterReplOffset: 396,
      connectedReplicas: [
        { host: '127.0.0.1', port: 16807, state: 'online', offset: 396, lag: 0 },
        { host: '127.0.0.1', port: 21973, state: 'online', offset: 396, lag: 0 },
      ],
      redisVersion: '7.0.15',
    });
  });

  it('master with 3 replicas lists the unannounced one too (only SENTINEL REPLICAS hides it)', () => {
    const info = parsed(fixture('master-3-replicas.txt'));
    expect(info.connectedReplicas.map((r) => r.port)).toEqual([16807, 21973, 18168]);
  });

  it('replica with its link up', () => {
    expect(parsed(fixture('replica-link-up.txt'))).toEqual({
      runId: '6a4c7303a9a53cd0109a56e7a827126c7756bb52',
      role: 'replica',
      loading: false,
      masterHost: '127.0.0.1',
      masterPort: 29847,
      masterLinkUp: true,
      masterLinkDownSinceMs: 0,
      replicaPriority: 100,
      replicaOffset: 396,
      replicaAnnounced: true,
      masterReplOffset: 396,
      connectedReplicas: [],
      redisVersion: '7.0.15',
    });
  });

  it('replica whose master was killed: link down, down-since in ms', () => {
    const info = parsed(fixture('replica-link-down.txt'));
    expect(info.role).toBe('replica');
    expect(info.masterLinkUp).toBe(false);
    expect(info.masterLinkDownSinceMs).toBe(2_000);
    expect(info.replicaOffset).toBe(396);
    expect(info.masterPort).toBe(29847);
  });

  it('replica never linked since start: Redis says -1, kept as -1000 like Sentinel (≠ 0 = link not up)', () => {
    const info = parsed(fixture('replica-never-linked.txt'));
    expect(info.masterLinkUp).toBe(false);
    expect(info.masterLinkDownSinceMs).toBe(-1_000);
  });

  it('replica-priority 0 and replica-announced no', () => {
    const info = parsed(fixture('replica-priority0-unannounced.txt'));
    expect(info.replicaPriority).toBe(0);
    expect(info.replicaAnnounced).toBe(false);
    expect(info.masterLinkUp).toBe(true);
  });

  it('\\n-only line ends parse the same as \\r\\n', () => {
    const crlf = fixture('master-2-replicas.txt');
    expect(parseInfo(crlf.replaceAll('\r\n', '\n'))).toEqual(parseInfo(crlf));
  });
});

describe('parseInfo edge cases', () => {
  it('minimal master: defaults for every absent field', () => {
    expect(parsed('role:master')).toEqual({
      runId: null,
      role: 'master',
      loading: false,
      masterHost: null,
      masterPort: null,
      masterLinkUp: false,
      masterLinkDownSinceMs: 0,
      replicaPriority: null,
      replicaOffset: null,
      replicaAnnounced: true,
      masterReplOffset: null,
      connectedReplicas: [],
      redisVersion: null,
    });
  });

  it('role:slave becomes replica; anything but master/slave is rejected', () => {
    expect(parsed('role:slave\r\n').role).toBe('replica');
    expect(parseInfo('role:replica')).toMatchObject({ ok: false });
    expect(parseInfo('role:sentinel')).toMatchObject({ ok: false });
    expect(parseInfo('role:MASTER')).toMatchObject({ ok: false });
  });

  it('no role line → not ok, with a reason', () => {
    const result = parseInfo('# Server\r\nredis_version:7.0.15\r\n');
    expect(result).toEqual({ ok: false, reason: 'no role field in INFO reply' });
  });

  it.each(['', '\r\n', 'PONG', 'garbage without colons', ':::', '\u0000\u0001', 'role', '-ERR oops'])(
    'garbage %j → not ok',
    (text) => {
      expect(parseInfo(text).ok).toBe(false);
    },
  );

  it('unknown fields, comments and blank lines are ignored', () => {
    const info = parsed('# Weird\r\n\r\nfoo:bar\r\nzzz\r\nrole:master\r\nnew_field_from_redis_9:1,2,3\r\n');
    expect(info.role).toBe('master');
  });

  it('values containing colons are kept whole (IPv6 master_host)', () => {
    expect(parsed('role:slave\nmaster_host:fe80::1\nmaster_port:6379').masterHost).toBe('fe80::1');
  });

  it('loading:1 → loading', () => {
    expect(parsed('loading:1\r\nrole:master').loading).toBe(true);
    expect(parsed('loading:0\r\nrole:master').loading).toBe(false);
  });

  it('master_link_status other than up → down', () => {
    expect(parsed('role:slave\nmaster_link_status:up').masterLinkUp).toBe(true);
    expect(parsed('role:slave\nmaster_link_status:down').masterLinkUp).toBe(false);
    expect(parsed('role:slave\nmaster_link_status:UP').masterLinkUp).toBe(false);
  });

  it('replica_priority is used when slave_priority is absent; slave_priority wins when both exist', () => {
    expect(parsed('role:slave\nreplica_priority:7').replicaPriority).toBe(7);
    expect(parsed('role:slave\nslave_priority:3\nreplica_priority:7').replicaPriority).toBe(3);
  });

  it('replica_announced defaults to true (absent before Redis 6.2)', () => {
    expect(parsed('role:slave').replicaAnnounced).toBe(true);
    expect(parsed('role:slave\nreplica_announced:0').replicaAnnounced).toBe(false);
    expect(parsed('role:slave\nreplica_announced:1').replicaAnnounced).toBe(true);
  });

  it('malformed numbers read as absent rather than as 0', () => {
    const info = parsed(
      'role:slave\nmaster_port:abc\nslave_priority:\nslave_repl_offset:1e3\nmaster_repl_offset:12x',
    );
    expect(info.masterPort).toBeNull();
    expect(info.replicaPriority).toBeNull();
    expect(info.replicaOffset).toBeNull();
    expect(info.masterReplOffset).toBeNull();
    expect(parsed('role:slave\nmaster_link_down_since_seconds:soon').masterLinkDownSinceMs).toBe(0);
  });

  it('slaveN lines: new key=value form, old ip,port,state form, and unusable lines skipped', () => {
    const info = parsed(
      [
        'role:master',
        'slave0:ip=10.0.0.2,port=6380,state=online,offset=123,lag=1',
        'slave1:10.0.0.3,6381,online',
        'slave2:ip=::1,port=6382,state=wait_bgsave',
        'slave3:ip=10.0.0.5,state=online',
        'slave4:10.0.0.6,notaport,online',
        'slave5:ip=10.0.0.7,port=70000,state=online',
        'slave_expires_tracked_keys:0',
        'slaveX:ip=10.0.0.8,port=6383',
      ].join('\r\n'),
    );
    expect(info.connectedReplicas).toEqual([
      { host: '10.0.0.2', port: 6380, state: 'online', offset: 123, lag: 1 },
      { host: '10.0.0.3', port: 6381, state: 'online', offset: 0, lag: 0 },
      { host: '::1', port: 6382, state: 'wait_bgsave', offset: 0, lag: 0 },
    ]);
  });

  it('last value of a repeated field wins', () => {
    expect(parsed('role:slave\r\nrole:master').role).toBe('master');
  });

  it('arbitrary input never throws and always yields ok or a reason', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const result = parseInfo(text);
        if (result.ok) expect(['master', 'replica']).toContain(result.info.role);
        else expect(typeof result.reason).toBe('string');
      }),
      { numRuns: 500 },
    );
  });

  it('INFO-shaped random input never throws', () => {
    const key = fc.constantFrom(
      'role',
      'run_id',
      'loading',
      'master_host',
      'master_port',
      'master_link_status',
      'master_link_down_since_seconds',
      'slave_priority',
      'replica_priority',
      'slave_repl_offset',
      'replica_announced',
      'master_repl_offset',
      'redis_version',
      'slave0',
      'slave12',
    );
    const value = fc.oneof(
      fc.string(),
      fc.integer().map(String),
      fc.constantFrom('master', 'slave', 'up', 'down', '-1', '1e309', '99999999999999999999'),
      fc.tuple(fc.string(), fc.string(), fc.string()).map((parts) => parts.join(',')),
      fc.dictionary(fc.constantFrom('ip', 'port', 'state', 'offset', 'lag'), fc.string()).map((d) =>
        Object.entries(d)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      ),
    );
    const line = fc.tuple(key, value).map(([k, v]) => `${k}:${v}`);
    fc.assert(
      fc.property(fc.array(line), fc.constantFrom('\n', '\r\n'), (lines, eol) => {
        const result = parseInfo(lines.join(eol));
        if (result.ok) {
          for (const replica of result.info.connectedReplicas) {
            expect(Number.isInteger(replica.port)).toBe(true);
            expect(replica.host.length).toBeGreaterThan(0);
          }
          expect(Number.isNaN(result.info.masterLinkDownSinceMs)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('classifyPingReply (Sentinel compares the reply start, case-sensitively)', () => {
  it.each([
    ['PONG', 'pong'],
    ['PONG extra', 'pong'],
    ['LOADING Redis is loading the dataset in memory', 'loading'],
    ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no', 'masterdown'],
    ['BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.', 'busy'],
    [
      'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
      'error',
    ],
    ['NOAUTH Authentication required.', 'error'],
    ["ERR unknown command 'PING', with args beginning with: ", 'error'],
    ['pong', 'error'],
    ['loading', 'error'],
    [' PONG', 'error'],
    ['', 'error'],
  ] as const)('%j → %s', (text, kind) => {
    expect(classifyPingReply(text)).toBe(kind);
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(['pong', 'loading', 'masterdown', 'busy', 'error']).toContain(classifyPingReply(text));
      }),
    );
  });
});
