/**
 * SENTINEL MASTER's flags during a failover: `failover_in_progress` marks a master that a failover is
 * replacing. Here the address switches before the replicas are re-pointed, so from reconf_slaves on the
 * master shown is the promoted one and carries no failover flag (as on Sentinel after +switch-master).
 */
import { describe, expect, it } from 'vitest';
import { masterMap } from '../../../lib/commands/instanceMaps.js';
import { newMasterRecord } from '../../../lib/core/records.js';
import type { FailoverState, MasterRecord } from '../../../lib/core/types.js';
import { masterSettings } from '../../support/settings.js';

const NOW = 1_000_000;
const settings = masterSettings({ name: 'mymaster', host: '10.0.0.1', port: 6379 });
const speaker = {
  selfId: 'sentinel-a',
  members: ['sentinel-a', 'sentinel-b', 'sentinel-c'],
  heartbeatStaleMs: 5_000,
};

function fieldsIn(state: FailoverState): Record<string, string> {
  const record: MasterRecord = {
    ...newMasterRecord({ name: 'mymaster', host: '10.0.0.2', port: 6379, now: NOW }, 'config'),
    failoverState: state,
  };
  const map = masterMap(
    { settings, record, address: { host: '10.0.0.2', port: 6379 }, replicas: [], votes: [], leases: [] },
    speaker,
    NOW,
    null,
    null,
  );
  return Object.fromEntries(map);
}

describe('SENTINEL MASTER flags during a failover', () => {
  it.each(['select_slave', 'send_slaveof_noone', 'wait_promotion'] as const)(
    'flags failover_in_progress while the shown master is being replaced (%s)',
    (state) => {
      const fields = fieldsIn(state);
      expect(fields.flags).toBe('master,failover_in_progress');
      expect(fields['failover-state']).toBe(state);
    },
  );

  it('drops the flag once the address has switched, and still says the replicas are being re-pointed', () => {
    const fields = fieldsIn('reconf_slaves');
    expect(fields.flags).toBe('master');
    expect(fields['failover-state']).toBe('reconf_slaves');
  });

  it('shows neither once the failover has ended', () => {
    const fields = fieldsIn('none');
    expect(fields.flags).toBe('master');
    expect(fields['failover-state']).toBeUndefined();
  });
});
