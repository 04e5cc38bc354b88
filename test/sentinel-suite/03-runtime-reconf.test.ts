/**
 * Redis's Sentinel suite, 03-runtime-reconf: SENTINEL SET changes a master's settings at run time, and
 * bad arguments are refused with Sentinel's error texts, changing nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldsOf, type LocalRunner, redisCall, redisCallAs, waitUntil } from '../support/localRunner.js';
import { MEMBERS, masterFields, QUORUM, startSuiteRunner, WITHIN_MS, waitMasterFlags } from './harness.js';

const USER = 'suite-user';
const PASSWORD = 'suite-pass-41d7';

let local: LocalRunner;

beforeAll(async () => {
  // As in Redis's suite, whose sentinels may change script paths at run time.
  local = await startSuiteRunner({ extraConfig: ['sentinel deny-scripts-reconfig no'] });
});
afterAll(async () => {
  await local?.stop();
});

/**
 * Runs `body` with the quorum above the number of sentinels, so that the masters made unreachable on
 * purpose (SDOWN) are never failed over, whatever the sentinels see.
 */
async function holdFailovers(body: () => Promise<void>): Promise<void> {
  expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'quorum', MEMBERS.length + 1)).toBe('OK');
  try {
    await body();
  } finally {
    expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'quorum', QUORUM)).toBe('OK');
  }
}

/** Closes every normal client connection of every server (the sentinels'), as `auth` may. */
async function cutSentinelConnections(auth: { username?: string; password?: string }): Promise<void> {
  for (const server of local.servers) {
    await redisCallAs(server.address, auth, 'CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  }
}

/**
 * Waits until the sentinel has had a valid reply from the master and from every replica after `since`
 * (so over a connection opened after then, when the connections were cut at `since`).
 */
async function waitAllAnswer(since: number): Promise<void> {
  await waitUntil(
    async () => {
      const asked = Date.now();
      const master = await masterFields(local);
      const replicas = ((await local.sentinel('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).map(
        fieldsOf,
      );
      if (replicas.length !== local.topology.replicas.length) return false;
      // The reply was computed at or after `asked`, so its last valid reply came after `since` if this holds.
      return [master, ...replicas].every(
        (instance) =>
          asked - Number(instance['last-ok-ping-reply']) > since &&
          !/s_down|disconnected/.test(instance.flags ?? ''),
      );
    },
    WITHIN_MS,
    'a valid reply from the master and every replica',
  );
}

describe('03-runtime-reconf', () => {
  it('the sentinels reconnect with the password SENTINEL SET auth-pass gives them once the servers require one', async () => {
    await waitAllAnswer(Date.now());
    await holdFailovers(async () => {
      for (const server of local.servers) {
        await redisCall(server.address, 'CONFIG', 'SET', 'requirepass', PASSWORD, 'masterauth', PASSWORD);
      }
      // The sentinels' open connections stay authenticated; every new one needs the password (the
      // original's sentinel restarted without it). Cut them: the sentinels cannot get a valid reply.
      await cutSentinelConnections({ password: PASSWORD });
      await waitMasterFlags(
        local,
        (flags) => flags.includes('s_down'),
        'the master to be s_down without the password',
      );

      expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'auth-pass', PASSWORD)).toBe('OK');
      await waitAllAnswer(Date.now());

      // The servers drop the password: the sentinels, still sending it, connect again.
      for (const server of local.servers) {
        await redisCallAs(
          server.address,
          { password: PASSWORD },
          'CONFIG',
          'SET',
          'requirepass',
          '',
          'masterauth',
          '',
        );
      }
      await cutSentinelConnections({});
      await waitAllAnswer(Date.now());
      expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'auth-pass', '')).toBe('OK');
    });
    expect(local.output()).not.toContain(PASSWORD);
  });

  it('the sentinels reconnect after the servers switch to an ACL user, once SENTINEL SET gives them auth-user and auth-pass', async () => {
    await waitAllAnswer(Date.now());
    await holdFailovers(async () => {
      const asUser = { username: USER, password: PASSWORD };
      for (const server of local.servers) {
        const { address } = server;
        expect(
          await redisCall(address, 'ACL', 'SETUSER', USER, 'on', `>${PASSWORD}`, 'allchannels', '+@all'),
        ).toBe('OK');
        expect(await redisCallAs(address, asUser, 'ACL', 'SETUSER', 'default', 'off')).toBe('OK');
        await redisCallAs(address, asUser, 'CONFIG', 'SET', 'masteruser', USER, 'masterauth', PASSWORD);
      }
      // Connections as the default user are cut, as in the original: the sentinels cannot get back in.
      await cutSentinelConnections(asUser);
      await waitMasterFlags(
        local,
        (flags) => flags.includes('s_down'),
        'the master to be s_down without the ACL user',
      );

      expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'auth-user', USER)).toBe('OK');
      expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'auth-pass', PASSWORD)).toBe('OK');
      await waitAllAnswer(Date.now());

      // Back to the default user, without a password: the sentinels connect again.
      for (const server of local.servers) {
        const { address } = server;
        expect(await redisCallAs(address, asUser, 'ACL', 'SETUSER', 'default', 'on')).toBe('OK');
        expect(await redisCall(address, 'ACL', 'DELUSER', USER)).toBe(1);
        await redisCall(address, 'CONFIG', 'SET', 'masteruser', '', 'masterauth', '');
      }
      expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'auth-user', '')).toBe('OK');
      expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'auth-pass', '')).toBe('OK');
      await cutSentinelConnections({});
      await waitAllAnswer(Date.now());
    });
    expect(local.output()).not.toContain(PASSWORD);
  });

  it('SENTINEL SET changes quorum and down-after-milliseconds, as SENTINEL MASTER shows right after', async () => {
    const before = await masterFields(local);
    const quorum = Number(before.quorum) + 1;
    const downAfter = Number(before['down-after-milliseconds']) + 1_000;
    expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'quorum', quorum)).toBe('OK');
    expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'down-after-milliseconds', downAfter)).toBe(
      'OK',
    );
    // As in Sentinel, the next SENTINEL MASTER shows the change (a SET drops the endpoint's cached read).
    const after = await masterFields(local);
    expect(after.quorum).toBe(String(quorum));
    expect(after['down-after-milliseconds']).toBe(String(downAfter));

    expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'quorum', before.quorum as string)).toBe('OK');
    expect(
      await local.sentinel(
        'SENTINEL',
        'SET',
        'mymaster',
        'down-after-milliseconds',
        before['down-after-milliseconds'] as string,
      ),
    ).toBe('OK');
    const restored = await masterFields(local);
    expect(restored.quorum).toBe(before.quorum);
    expect(restored['down-after-milliseconds']).toBe(before['down-after-milliseconds']);
  });

  it('SENTINEL SET refuses a malformed down-after-milliseconds and keeps the old value', async () => {
    const before = (await masterFields(local))['down-after-milliseconds'];
    for (const bad of ['-20', 'abc']) {
      await expect(
        local.sentinel('SENTINEL', 'SET', 'mymaster', 'down-after-milliseconds', bad),
      ).rejects.toThrow(`ERR Invalid argument '${bad}' for SENTINEL SET 'down-after-milliseconds'`);
    }
    expect((await masterFields(local))['down-after-milliseconds']).toBe(before);
  });

  it('SENTINEL SET refuses a script that does not exist, a missing value and an unknown option with Sentinel’s texts', async () => {
    await expect(
      local.sentinel('SENTINEL', 'SET', 'mymaster', 'notification-script', 'does-not-exist.sh'),
    ).rejects.toThrow(/^ERR Notification script seems non existing or non executable/);
    await expect(local.sentinel('SENTINEL', 'SET', 'mymaster', 'fakeoption')).rejects.toThrow(
      /^ERR wrong number of arguments for 'sentinel\|set' command$/,
    );
    await expect(local.sentinel('SENTINEL', 'SET', 'mymaster', 'fakeoption', 'fakevalue')).rejects.toThrow(
      /^ERR Unknown option or number of arguments for SENTINEL SET 'fakeoption'$/,
    );
  });
});
