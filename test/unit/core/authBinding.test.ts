/**
 * lib/core/authBinding.ts: a configured password goes only to the replication group it was configured
 * for, decided from the record's origin, never from its name alone. And settingsOf, which every path
 * that talks to Redis uses, carries exactly what that decision allows.
 */
import { describe, expect, it } from 'vitest';
import { parseSentinelConfig } from '../../../lib/config/parse.js';
import {
  type AuthPassDecision,
  decideAuthPass,
  describeWithheldAuthPass,
  effectiveOrigin,
  sameOrigin,
} from '../../../lib/core/authBinding.js';
import { newMasterRecord } from '../../../lib/core/records.js';
import type { MasterOrigin, MasterRecord, SentinelConfig } from '../../../lib/core/types.js';
import { settingsOf } from '../../../lib/runtime/masterSettings.js';

const FILE = { host: '10.0.0.1', port: 6379 };
const ELSEWHERE = { host: '10.6.6.6', port: 6379 };
const PROMOTED = { host: '10.0.0.2', port: 6380 };
const BOUND = { host: '10.0.5.5', port: 6400 };

/** The file lists `listed` (with a password and an ACL user) and `nopass`; SSM binds `added` to BOUND. */
const parsed = parseSentinelConfig(
  [
    `sentinel monitor listed ${FILE.host} ${FILE.port} 2`,
    'sentinel auth-pass listed file-secret',
    'sentinel auth-user listed sentinel-user',
    `sentinel monitor nopass ${FILE.host} 7000 2`,
    'sentinel down-after-milliseconds listed 5000',
    '',
  ].join('\n'),
  '<test>',
);
const config: SentinelConfig = {
  ...parsed,
  authPassByMaster: {
    added: { address: BOUND, password: 'bound-secret' },
    // A listed name never gets an entry here (lambdaConfig puts its parameter on the file entry); if
    // one did, the file entry still decides.
    nopass: { address: { host: FILE.host, port: 7000 }, password: 'stray-secret' },
    empty: { address: BOUND, password: '' },
  },
};

const origin = (source: MasterOrigin['source'], at: { host: string; port: number }): MasterOrigin => ({
  source,
  ...at,
});

/** A record of `name`, currently at `at`, whose incarnation began as `began` (null: a pre-origin record). */
function record(name: string, at: { host: string; port: number }, began: MasterOrigin | null): MasterRecord {
  return { ...newMasterRecord({ name, ...at, now: 0 }, 'config'), origin: began };
}

const password = (value: string): AuthPassDecision => ({ use: 'password', password: value });

describe('decideAuthPass: a master the file lists (password bound to its file entry)', () => {
  it('sends it to the record seeded from the file, wherever failovers have moved it', () => {
    expect(decideAuthPass(config, record('listed', FILE, origin('config', FILE)))).toEqual(
      password('file-secret'),
    );
    expect(decideAuthPass(config, record('listed', PROMOTED, origin('config', FILE)))).toEqual(
      password('file-secret'),
    );
  });

  it('sends it to a record seeded from an earlier version of the file at another address', () => {
    expect(decideAuthPass(config, record('listed', ELSEWHERE, origin('config', ELSEWHERE)))).toEqual(
      password('file-secret'),
    );
  });

  it('sends it to a MONITOR at the file address, and to that incarnation after a failover', () => {
    expect(decideAuthPass(config, record('listed', FILE, origin('monitor', FILE)))).toEqual(
      password('file-secret'),
    );
    expect(decideAuthPass(config, record('listed', PROMOTED, origin('monitor', FILE)))).toEqual(
      password('file-secret'),
    );
  });

  it('withholds it from a MONITOR at another address (REMOVE + MONITOR elsewhere), even once it sits at the file address', () => {
    const withheld = { use: 'withheld', boundTo: FILE, origin: origin('monitor', ELSEWHERE) };
    expect(decideAuthPass(config, record('listed', ELSEWHERE, origin('monitor', ELSEWHERE)))).toEqual(
      withheld,
    );
    // That incarnation failed over to a node at the file's address: it is still the other group.
    expect(decideAuthPass(config, record('listed', FILE, origin('monitor', ELSEWHERE)))).toEqual(withheld);
    // Same host, other port: another server.
    expect(
      decideAuthPass(config, record('listed', FILE, origin('monitor', { ...FILE, port: 6390 }))),
    ).toMatchObject({ use: 'withheld' });
  });

  it('treats a record written before origins existed as seeded from the file (an upgrade keeps its password)', () => {
    expect(effectiveOrigin(config, record('listed', PROMOTED, null))).toEqual(origin('config', FILE));
    expect(decideAuthPass(config, record('listed', PROMOTED, null))).toEqual(password('file-secret'));
  });

  it('sends nothing when the file entry has no password, whatever else is configured for the name', () => {
    expect(decideAuthPass(config, record('nopass', FILE, origin('config', FILE)))).toEqual({ use: 'none' });
    expect(
      decideAuthPass(config, record('nopass', FILE, origin('monitor', { host: FILE.host, port: 7000 }))),
    ).toEqual({ use: 'none' });
  });
});

describe('decideAuthPass: a master the file does not list (password bound to an address)', () => {
  it('sends it to a MONITOR at exactly that address, and to that incarnation after a failover', () => {
    expect(decideAuthPass(config, record('added', BOUND, origin('monitor', BOUND)))).toEqual(
      password('bound-secret'),
    );
    expect(decideAuthPass(config, record('added', PROMOTED, origin('monitor', BOUND)))).toEqual(
      password('bound-secret'),
    );
  });

  it('withholds it from a MONITOR at another host or port', () => {
    for (const at of [ELSEWHERE, { ...BOUND, port: 6401 }, { ...BOUND, host: '10.0.5.6' }]) {
      expect(decideAuthPass(config, record('added', at, origin('monitor', at)))).toEqual({
        use: 'withheld',
        boundTo: BOUND,
        origin: origin('monitor', at),
      });
    }
  });

  it('withholds it from a record seeded by a monitor line, even at that address (the file no longer lists it)', () => {
    expect(decideAuthPass(config, record('added', BOUND, origin('config', BOUND)))).toEqual({
      use: 'withheld',
      boundTo: BOUND,
      origin: origin('config', BOUND),
    });
  });

  it('withholds it from a record written before origins existed: nothing says where it began', () => {
    expect(effectiveOrigin(config, record('added', BOUND, null))).toBeNull();
    expect(decideAuthPass(config, record('added', BOUND, null))).toEqual({
      use: 'withheld',
      boundTo: BOUND,
      origin: null,
    });
  });

  it('sends nothing for a name without a password, or with an empty one', () => {
    expect(decideAuthPass(config, record('other', BOUND, origin('monitor', BOUND)))).toEqual({ use: 'none' });
    expect(decideAuthPass(config, record('empty', BOUND, origin('monitor', BOUND)))).toEqual({ use: 'none' });
    expect(
      decideAuthPass(
        { ...config, authPassByMaster: undefined },
        record('added', BOUND, origin('monitor', BOUND)),
      ),
    ).toEqual({ use: 'none' });
  });
});

describe('sameOrigin: whether observations of one incarnation may be carried to another', () => {
  it('is true only for the same source at the same address, or two unknown origins', () => {
    expect(sameOrigin(origin('monitor', FILE), origin('monitor', { ...FILE }))).toBe(true);
    expect(sameOrigin(null, null)).toBe(true);
    // REMOVE + MONITOR elsewhere, or back at the file's address: another incarnation each time.
    expect(sameOrigin(origin('monitor', ELSEWHERE), origin('monitor', FILE))).toBe(false);
    expect(sameOrigin(origin('config', FILE), origin('monitor', FILE))).toBe(false);
    expect(sameOrigin(origin('monitor', FILE), origin('monitor', { ...FILE, port: 6380 }))).toBe(false);
    expect(sameOrigin(origin('config', FILE), null)).toBe(false);
    expect(sameOrigin(null, origin('config', FILE))).toBe(false);
  });
});

describe('describeWithheldAuthPass', () => {
  it('names the master and both addresses, says what to do, and never shows the password', () => {
    const decision = decideAuthPass(config, record('listed', ELSEWHERE, origin('monitor', ELSEWHERE)));
    if (decision.use !== 'withheld') throw new Error(`expected withheld, got ${decision.use}`);
    const { message, fields } = describeWithheldAuthPass('listed', decision);
    expect(message).toContain('password of master listed not sent');
    expect(message).toContain('configured for the master at 10.0.0.1:6379');
    expect(message).toContain('added by SENTINEL MONITOR at 10.6.6.6:6379');
    expect(fields).toEqual({
      master: 'listed',
      passwordBoundTo: '10.0.0.1:6379',
      origin: 'monitor',
      originAddress: '10.6.6.6:6379',
    });
    expect(JSON.stringify({ message, fields })).not.toContain('secret');
  });

  it('says so when the record predates origins', () => {
    const decision = decideAuthPass(config, record('added', BOUND, null));
    if (decision.use !== 'withheld') throw new Error(`expected withheld, got ${decision.use}`);
    const { message, fields } = describeWithheldAuthPass('added', decision);
    expect(message).toContain('its record predates address binding');
    expect(fields).toEqual({ master: 'added', passwordBoundTo: '10.0.5.5:6400' });
  });
});

describe('settingsOf carries exactly the credentials the decision allows', () => {
  it('password and ACL user for the file incarnation; neither for another; SET changes apply either way', () => {
    const seeded = { ...record('listed', PROMOTED, origin('config', FILE)), settings: { quorum: 1 } };
    expect(settingsOf(config, seeded)).toMatchObject({
      authPass: 'file-secret',
      authUser: 'sentinel-user',
      quorum: 1,
      downAfterMs: 5000,
    });
    const elsewhere = {
      ...record('listed', ELSEWHERE, origin('monitor', ELSEWHERE)),
      settings: { quorum: 1 },
    };
    const settings = settingsOf(config, elsewhere);
    expect(settings).toMatchObject({ quorum: 1, downAfterMs: 5000 });
    expect('authPass' in settings).toBe(false);
    expect('authUser' in settings).toBe(false);
  });

  it('a MONITOR-added master gets its address-bound password, and only there', () => {
    expect(settingsOf(config, record('added', BOUND, origin('monitor', BOUND))).authPass).toBe(
      'bound-secret',
    );
    expect(
      settingsOf(config, record('added', ELSEWHERE, origin('monitor', ELSEWHERE))).authPass,
    ).toBeUndefined();
  });
});
