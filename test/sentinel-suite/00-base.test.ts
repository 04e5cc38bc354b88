/**
 * Redis's Sentinel suite, 00-base: the basic commands, and failover after a master crash, on
 * `lambda-sentinel local` with a real master and replicas. The tests run in order and build on each
 * other (the master changes as they go), as in the original.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from '../../lib/core/types.js';
import { fieldsOf, type LocalRunner, waitUntil } from '../support/localRunner.js';
import {
  crashMasterAndFailover,
  MEMBERS,
  masterFields,
  QUORUM,
  roleOf,
  sleep,
  startSuiteRunner,
  WITHIN_MS,
  waitAllReplicateFrom,
  waitForNewMaster,
  waitMasterFlags,
  waitReplicatesFrom,
} from './harness.js';

/**
 * How long the crashed master is watched for an ODOWN that must not come: several down-after periods
 * (1000 ms) after SDOWN, in which a reachable quorum would have flagged it and started a failover.
 */
const NO_ODOWN_WATCH_MS = 4_000;

let local: LocalRunner;
let master: Address;

beforeAll(async () => {
  local = await startSuiteRunner();
  master = await local.masterAddress();
});
afterAll(async () => {
  await local?.stop();
});

describe('00-base', () => {
  it('COMMAND LIST and COMMAND DOCS name the commands Sentinel serves, and no data-server command', async () => {
    const listed = (await local.sentinel('COMMAND', 'LIST')) as string[];
    for (const served of ['ping', 'info', 'subscribe', 'sentinel', 'client|list']) {
      expect(listed).toContain(served);
      expect(await local.sentinel('COMMAND', 'DOCS', served)).not.toEqual([]);
    }
    for (const dataCommand of ['save', 'bgrewriteaof', 'blpop', 'replicaof']) {
      expect(listed).not.toContain(dataCommand);
      expect(await local.sentinel('COMMAND', 'DOCS', dataCommand)).toEqual([]);
      await expect(local.sentinel(dataCommand)).rejects.toThrow(/^ERR unknown command/);
    }
    await expect(local.sentinel('CLIENT', 'NO-TOUCH')).rejects.toThrow(/^ERR unknown subcommand/);
  });

  it('SENTINEL HELP describes the SENTINEL subcommands', async () => {
    const help = (await local.sentinel('SENTINEL', 'HELP')) as string[];
    expect(help.join('\n')).toMatch(/SENTINEL <subcommand> /);
  });

  it('SENTINEL MYID is a 40-character id, the same on every call', async () => {
    const id = (await local.sentinel('SENTINEL', 'MYID')) as string;
    expect(id).toHaveLength(40);
    expect(await local.sentinel('SENTINEL', 'MYID')).toBe(id);
  });

  it("SENTINEL INFO-CACHE answers the master's name, then its cached INFO and how old it is", async () => {
    const [name, instances] = (await local.sentinel('SENTINEL', 'INFO-CACHE', 'mymaster')) as [
      string,
      Array<[number, string | null]>,
    ];
    expect(name).toBe('mymaster');
    // The master's entry first, then one per replica.
    expect(instances).toHaveLength(local.servers.length);
    const [age, info] = instances[0] as [number, string | null];
    expect(Number.isInteger(age) && age >= 0).toBe(true);
    expect(info).toMatch(/# Server/);
    expect(info).toMatch(/^role:master$/m);
  });

  it('SENTINEL PENDING-SCRIPTS answers a list (no script is configured here, so an empty one)', async () => {
    expect(await local.sentinel('SENTINEL', 'PENDING-SCRIPTS')).toEqual([]);
  });

  it('SENTINEL MASTERS lists the monitored master', async () => {
    const masters = (await local.sentinel('SENTINEL', 'MASTERS')) as unknown[];
    expect(masters.length).toBeGreaterThanOrEqual(1);
    expect(masters.map((m) => fieldsOf(m).name)).toContain('mymaster');
  });

  it('SENTINEL SENTINELS lists the other sentinels', async () => {
    const sentinels = (await local.sentinel('SENTINEL', 'SENTINELS', 'mymaster')) as unknown[];
    expect(sentinels).toHaveLength(MEMBERS.length - 1);
  });

  it('SENTINEL SLAVES lists the monitored replicas', async () => {
    const replicas = (await local.sentinel('SENTINEL', 'SLAVES', 'mymaster')) as unknown[];
    expect(replicas).toHaveLength(local.topology.replicas.length);
  });

  it('SENTINEL SIMULATE-FAILURE HELP lists the failures it can simulate', async () => {
    expect(await local.sentinel('SENTINEL', 'SIMULATE-FAILURE', 'HELP')).toEqual([
      'crash-after-election',
      'crash-after-promotion',
    ]);
  });

  it('fails over when the master is down', async () => {
    expect(master).toEqual(local.topology.master.address);
    master = await crashMasterAndFailover(local);
    expect(master.port).not.toBe(local.topology.master.address.port);
  });

  it('the new master reports the master role', async () => {
    expect(await roleOf(master)).toBe('master');
  });

  it('every other replica now replicates from the new master', async () => {
    for (const server of local.topology.replicas) {
      if (server.address.port !== master.port) await waitReplicatesFrom(server, master);
    }
  });

  it('the old master, back, is reconfigured as a replica of the new master', async () => {
    await waitReplicatesFrom(local.topology.master, master);
  });

  it('no ODOWN, so no failover, when the quorum is above the number of sentinels', async () => {
    await waitAllReplicateFrom(local, master);
    await waitMasterFlags(local, (flags) => flags === 'master', "the master's flags to be just 'master'");
    expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'quorum', MEMBERS.length + 1)).toBe('OK');
    const server = local.serverAt(master);
    const from = local.output().length;
    await server.kill();
    // Every sentinel sees it down, but the quorum of down-votes can never be reached.
    await waitMasterFlags(
      local,
      (flags) => flags.includes('s_down'),
      'the crashed master to be flagged s_down',
    );
    await sleep(NO_ODOWN_WATCH_MS);
    expect((await masterFields(local)).flags).not.toMatch(/o_down/);
    expect(await local.masterAddress()).toEqual(master);
    expect(local.output().slice(from)).not.toMatch(/\+odown master mymaster/);
    // Redis's suite restarts a server from the config file CONFIG REWRITE left, so as the master it was;
    // this server's arguments may still name the master it replicated from before the first failover.
    await server.restart(['--replicaof', 'no', 'one']);
    // The quorum comes back only once every sentinel sees the master up again: set while some still
    // judge it down, their down-votes would start a failover of the master just restarted.
    await waitMasterFlags(local, (flags) => flags === 'master', 'the restarted master to be up again');
    await waitUntil(
      async () =>
        MEMBERS.every((id) => local.output().slice(from).includes(`[${id}] -sdown master mymaster`)),
      WITHIN_MS,
      'every sentinel to see the restarted master up (-sdown)',
    );
    expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'quorum', QUORUM)).toBe('OK');
  });

  it('fails over when the quorum is every sentinel (absolute agreement)', async () => {
    expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'quorum', MEMBERS.length)).toBe('OK');
    await waitAllReplicateFrom(local, master);
    const old = master;
    await local.serverAt(old).kill();
    master = await waitForNewMaster(local, old.port);
    await local.serverAt(old).restart();
    expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'quorum', QUORUM)).toBe('OK');
  });

  it('the new master reports the master role (after the absolute-agreement failover)', async () => {
    expect(await roleOf(master)).toBe('master');
  });

  it('SENTINEL RESET resets the master: answers 1 and forgets the replicas it had found', async () => {
    await waitAllReplicateFrom(local, master);
    // The replicas are found again by the next INFO, so right after a reset the list has started over.
    // A busy machine may let that INFO in first: like the original, give it a few tries.
    const known: number[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      expect(await local.sentinel('SENTINEL', 'RESET', 'mymaster')).toBe(1);
      known.push(((await local.sentinel('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).length);
      if ((known.at(-1) as number) < local.servers.length - 1) break;
    }
    expect(Math.min(...known)).toBeLessThan(local.servers.length - 1);
  });
});
