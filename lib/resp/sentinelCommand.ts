/**
 * SENTINEL <subcommand> over RESP: each subcommand asks the SentinelView (lib/commands) and turns its
 * answer into Sentinel's reply, with Sentinel's texts (lib/core/sentinelReplies.ts). lookupCommand
 * (lib/core/acl.ts) has already checked the subcommand, its arity and the user's permission.
 */

import {
  configGet,
  debugSet,
  type ProcessControls,
  readConfigSet,
  readSimulateFailure,
} from '../commands/processControls.js';
import type {
  AddressWithEpoch,
  CommandReply,
  EndpointAddress,
  Fields,
  SentinelView,
} from '../commands/view.js';
import { globMatch } from '../core/glob.js';
import { errText, SENTINEL_REPLY, SIMULATED_FAILURES } from '../core/sentinelReplies.js';
import { groupSetArgs } from '../core/settings.js';
import {
  array,
  bulk,
  encode,
  error,
  fieldMap,
  integer,
  map,
  nullArray,
  nullBulk,
  OK,
  type Protocol,
  type Reply,
  simple,
} from './encoder.js';
import type { Args } from './session.js';

/** SENTINEL HELP, Sentinel's lines word for word (redis-server 7.0.15): every subcommand listed is answered here. */
const HELP_LINES = [
  'SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CKQUORUM <master-name>',
  '    Check if the current Sentinel configuration is able to reach the quorum',
  '    needed to failover a master and the majority needed to authorize the',
  '    failover.',
  'CONFIG SET <param> <value>',
  '    Set a global Sentinel configuration parameter.',
  'CONFIG GET <param>',
  '    Get global Sentinel configuration parameter.',
  'DEBUG [<param> <value> ...]',
  '    Show a list of configurable time parameters and their values (milliseconds).',
  '    Or update current configurable parameters values (one or more).',
  'GET-MASTER-ADDR-BY-NAME <master-name>',
  '    Return the ip and port number of the master with that name.',
  'FAILOVER <master-name>',
  '    Manually failover a master node without asking for agreement from other',
  '    Sentinels',
  'FLUSHCONFIG',
  '    Force Sentinel to rewrite its configuration on disk, including the current',
  '    Sentinel state.',
  'INFO-CACHE <master-name>',
  '    Return last cached INFO output from masters and all its replicas.',
  'IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>',
  "    Check if the master specified by ip:port is down from current Sentinel's",
  '    point of view.',
  'MASTER <master-name>',
  '    Show the state and info of the specified master.',
  'MASTERS',
  '    Show a list of monitored masters and their state.',
  'MONITOR <name> <ip> <port> <quorum>',
  '    Start monitoring a new master with the specified name, ip, port and quorum.',
  'MYID',
  '    Return the ID of the Sentinel instance.',
  'PENDING-SCRIPTS',
  '    Get pending scripts information.',
  'REMOVE <master-name>',
  "    Remove master from Sentinel's monitor list.",
  'REPLICAS <master-name>',
  '    Show a list of replicas for this master and their state.',
  'RESET <pattern>',
  '    Reset masters for specific master name matching this pattern.',
  'SENTINELS <master-name>',
  '    Show a list of Sentinel instances for this master and their state.',
  'SET <master-name> <option> <value> [<option> <value> ...]',
  '    Set configuration parameters for certain masters.',
  'SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]',
  '    Simulate a Sentinel crash.',
  'HELP',
  '    Prints this help.',
];

/** Distinct master addresses whose encoded get-master-addr-by-name reply is kept. */
const MAX_CACHED_ADDRESS_REPLIES = 1024;

const noSuchMaster = error(errText(SENTINEL_REPLY.noSuchMaster));

/**
 * get-master-addr-by-name is what clients ask most, and its answer rarely changes: the same address gets
 * the same reply object, encoded once per protocol. `encode` serves every reply, from the cache when it
 * is one of these (or the unknown master's null).
 */
export class ReplyEncoder {
  readonly #addressReplies = new Map<string, Reply>();
  readonly #encoded = new WeakMap<Reply, Partial<Record<Protocol, Buffer>>>([[nullArray, {}]]);
  /** The encoded reply per address object a view hands out (SentinelView.addressNow), per protocol. */
  readonly #byAddress = new WeakMap<AddressWithEpoch, Partial<Record<Protocol, Buffer>>>();

  /** The encoded reply to get-master-addr-by-name for an address a view answered. */
  addressBytes(address: AddressWithEpoch, proto: Protocol): Buffer {
    let bytes = this.#byAddress.get(address);
    if (bytes === undefined) {
      bytes = {};
      this.#byAddress.set(address, bytes);
    }
    const cached = bytes[proto] ?? this.encode(this.addressReply(address.ip, address.port), proto);
    bytes[proto] = cached;
    return cached;
  }

  addressReply(host: string, port: number): Reply {
    const key = `${host}:${port}`;
    let reply = this.#addressReplies.get(key);
    if (reply === undefined) {
      if (this.#addressReplies.size >= MAX_CACHED_ADDRESS_REPLIES) this.#addressReplies.clear();
      reply = array([bulk(host), bulk(String(port))]);
      this.#addressReplies.set(key, reply);
      this.#encoded.set(reply, {});
    }
    return reply;
  }

  encode(reply: Reply, proto: Protocol): Buffer {
    const bytes = this.#encoded.get(reply);
    if (bytes === undefined) return encode(reply, proto);
    const cached = bytes[proto] ?? encode(reply, proto);
    bytes[proto] = cached;
    return cached;
  }
}

export interface SentinelCommandContext {
  readonly view: SentinelView;
  readonly replies: ReplyEncoder;
  /** SENTINEL MYID. */
  readonly runId: string;
  /** The address SENTINEL SENTINELS gives for the other sentinels, as the asking connection sees us. */
  announce(): EndpointAddress;
  /** SENTINEL CONFIG, DEBUG and SIMULATE-FAILURE: what the hosting process allows. */
  readonly controls: ProcessControls;
}

/** A signed 64-bit integer as Redis reads one (string2ll): no '+', no leading zeros, no spaces. */
function readRedisInteger(text: string): bigint | null {
  if (!/^-?(0|[1-9][0-9]{0,18})$/.test(text)) return null;
  const value = BigInt(text);
  return value >= -(2n ** 63n) && value < 2n ** 63n ? value : null;
}

async function isMasterDownByAddr(context: SentinelCommandContext, args: Args): Promise<Reply> {
  const [, , host = '', portText = '', epochText = '', runId = ''] = args;
  const port = readRedisInteger(portText);
  if (port === null || readRedisInteger(epochText) === null) {
    return error(errText(SENTINEL_REPLY.notAnInteger));
  }
  // Asked with a run id, Sentinel votes for it; here votes are DynamoDB writes that no sentinel asks for
  // over this endpoint, so the answer only reports the current epoch's leader.
  const withLeader = runId !== '*';
  const reply = context.view.masterDownByAddr
    ? await context.view.masterDownByAddr(host, Number(port), withLeader)
    : { down: false, leaderRunId: null, leaderEpoch: 0 };
  return array([integer(reply.down ? 1 : 0), bulk(reply.leaderRunId ?? '*'), integer(reply.leaderEpoch)]);
}

async function infoCache(context: SentinelCommandContext, names: readonly string[]): Promise<Reply> {
  const entries = context.view.infoCache ? await context.view.infoCache(names) : [];
  return array(
    entries.flatMap((entry) => [
      bulk(entry.name),
      array(entry.instances.map((i) => array([integer(i.ageMs), i.info === null ? nullBulk : bulk(i.info)]))),
    ]),
  );
}

function config(context: SentinelCommandContext, args: Args): Reply {
  const form = (args[2] ?? '').toLowerCase();
  // 7.0.15 takes one pattern; 7.2 several, each parameter answered once.
  if (form === 'get' && args.length >= 4) {
    // Sentinel matches without case; the names are lower case.
    const patterns = args.slice(3).map((p) => p.toLowerCase());
    return fieldMap(
      configGet(context.controls.params(), patterns, (pattern, name) => globMatch(pattern, name)),
    );
  }
  // 7.0.15 takes one pair; 7.2 several, all checked first (its texts for a duplicate or a missing value).
  if (form === 'set' && args.length >= 5) {
    const read = readConfigSet(args.slice(3));
    if (!read.ok) return error(errText(read.error));
    return commandReply(context.controls.setParams(read.changes));
  }
  return error(errText(SENTINEL_REPLY.configUsage));
}

function debug(context: SentinelCommandContext, args: Args): Reply {
  if (args.length === 2) return fieldMap(context.controls.timings());
  const { controls } = context;
  return error(errText(debugSet(args.slice(2), controls.global, controls.deployed)));
}

/** Sentinel's reply: one map per script (argv, flags, pid, run-time or run-delay, retry-num). */
function pendingScripts(controls: ProcessControls): Reply {
  return array(
    controls.pendingScripts().map((script) =>
      map([
        [bulk('argv'), array(script.argv.map((a) => bulk(a)))],
        [bulk('flags'), bulk(script.running ? 'running' : 'scheduled')],
        [bulk('pid'), bulk(String(script.pid))],
        [bulk(script.running ? 'run-time' : 'run-delay'), bulk(String(script.ms))],
        [bulk('retry-num'), bulk(String(script.retries))],
      ]),
    ),
  );
}

function simulateFailure(context: SentinelCommandContext, args: Args): Reply {
  const request = readSimulateFailure(args.slice(2));
  switch (request.kind) {
    case 'help':
      return array(SIMULATED_FAILURES.map((f) => bulk(f)));
    case 'unknown':
      return error(errText(SENTINEL_REPLY.unknownFailureSimulation));
    case 'arm':
      return commandReply(context.controls.simulateFailure(request.failures));
  }
}

function fieldsReply(fields: Fields): Reply {
  return fieldMap(fields);
}

function commandReply(reply: CommandReply): Reply {
  return reply.ok ? OK : error(errText(reply.error));
}

export async function sentinelCommand(context: SentinelCommandContext, args: Args): Promise<Reply> {
  const { view } = context;
  const sub = (args[1] ?? '').toLowerCase();
  const name = args[2] ?? '';
  switch (sub) {
    case 'get-master-addr-by-name': {
      const address = await view.masterAddress(name);
      return address ? context.replies.addressReply(address.host, address.port) : nullArray;
    }
    case 'master': {
      const fields = await view.master(name);
      return fields ? fieldsReply(fields) : noSuchMaster;
    }
    case 'masters':
      return array((await view.masters()).map(fieldsReply));
    case 'replicas':
    case 'slaves': {
      const list = await view.replicas(name);
      return list ? array(list.map(fieldsReply)) : noSuchMaster;
    }
    case 'sentinels': {
      const list = await view.sentinels(name, context.announce());
      return list ? array(list.map(fieldsReply)) : noSuchMaster;
    }
    case 'ckquorum': {
      const result = await view.ckquorum(name);
      if (!result) return noSuchMaster;
      return result.ok ? simple(result.text) : error(result.text);
    }
    case 'myid':
      return bulk(context.runId);
    case 'failover': {
      switch (await view.failover(name)) {
        case 'OK':
          return OK;
        case 'INPROG':
          return error(SENTINEL_REPLY.failoverInProgress);
        case 'NOGOODSLAVE':
          return error(SENTINEL_REPLY.noGoodReplica);
        case 'NOSUCHMASTER':
          return noSuchMaster;
      }
      return OK;
    }
    case 'monitor':
      return commandReply(await view.monitor(name, args[3] ?? '', args[4] ?? '', args[5] ?? ''));
    case 'remove':
      return commandReply(await view.remove(name));
    case 'set':
      return commandReply(await view.set(name, groupSetArgs(args.slice(3))));
    case 'reset':
      return integer(await view.reset(name));
    case 'config':
      return config(context, args);
    case 'debug':
      return debug(context, args);
    case 'info-cache':
      return infoCache(context, args.slice(2));
    case 'is-master-down-by-addr':
      return isMasterDownByAddr(context, args);
    case 'pending-scripts':
      return pendingScripts(context.controls);
    case 'flushconfig':
      // Sentinel rewrites its file here; this project's state is in the store, written as it changes,
      // and sentinel.conf is only read: there is nothing to flush.
      return OK;
    case 'simulate-failure':
      return simulateFailure(context, args);
    case 'help':
      return array(HELP_LINES.map((l) => simple(l)));
    default:
      return error(errText(SENTINEL_REPLY.notSupported));
  }
}
