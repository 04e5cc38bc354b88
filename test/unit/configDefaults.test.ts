/**
 * The settings of a master no file lists (SENTINEL MONITOR) come from lib/config/defaults.ts, the same
 * place the parser takes a file's defaults from: they must be exactly what a bare monitor line gets.
 */
import { describe, expect, it } from 'vitest';
import { defaultMasterSettings } from '../../lib/config/defaults.js';
import { parseSentinelConfig } from '../../lib/config/parse.js';
import { newMasterRecord } from '../../lib/core/records.js';
import { settingsOf } from '../../lib/runtime/masterSettings.js';

const MASTERS = [
  { name: 'mymaster', host: '127.0.0.1', port: 6379 },
  { name: 'cache.eu-west_1', host: '10.1.2.3', port: 7001 },
  { name: 'v6', host: '::1', port: 1 },
  { name: 'by-name', host: 'redis.internal', port: 65_535 },
];

describe('defaultMasterSettings', () => {
  for (const master of MASTERS) {
    it(`is what the parser gives a bare monitor line (${master.name} ${master.host} ${master.port})`, () => {
      // resolve-hostnames yes: the last master is monitored by host name.
      const parsed = parseSentinelConfig(
        `sentinel resolve-hostnames yes\nsentinel monitor ${master.name} ${master.host} ${master.port} 2`,
        'sentinel.conf',
      ).masters[0];
      expect(defaultMasterSettings({ ...master, quorum: 2 })).toStrictEqual(parsed);
    });
  }

  it('gives a master added by MONITOR those settings, with the record address and quorum placeholder 1', () => {
    const config = parseSentinelConfig(
      'sentinel members s1 s2 s3 s4 s5\nsentinel monitor listed 10.0.0.1 6379 3\n',
      'sentinel.conf',
    );
    const record = newMasterRecord({ name: 'added', host: '10.0.0.9', port: 6380, now: 0 }, 'monitor');
    const bare = parseSentinelConfig('sentinel monitor added 10.0.0.9 6380 1', 'sentinel.conf').masters[0];
    expect(settingsOf(config, record)).toStrictEqual({ ...bare });
  });
});
