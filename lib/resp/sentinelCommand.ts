/**
 * SENTINEL <subcommand> over RESP: each subcommand asks the SentinelView (lib/commands) and turns its
 * answer into Sentinel's reply, with Sentinel's texts (lib/core/sentinelReplies.ts). lookupCommand
 * (lib/core/acl.ts) has already checked the subcommand, its arity and the user's permission.
 */

import type { CommandReply, EndpointAddress, Fields, SentinelView } from '../commands/view.js';
import { errText, SENTINEL_REPLY } from '../core/sentinelReplies.js';
import { groupSetArgs } from '../core/settings.js';
import {
  array,
  bulk,
  encode,
  error,
  fieldMap,
  integer,
  nullArray,
  OK,
  type Protocol,
  type Reply,
  simple,
} from './encoder.js';
import type { Args } from './session.js';

const HELP_LINES = [
  'SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CKQUORUM <master-name>',
  '    Check if the current Sentinel configuration is able to reach the quorum needed to failover a master and the majority needed to authorize the failover.',
  'GET-MASTER-ADDR-BY-NAME <master-name>',
  '    Return the ip and port number of the master with that name.',
  'FAILOVER <master-name>',
  '    Manually failover a master node without asking for agreement from other Sentinels',
  'MASTER <master-name>',
  '    Show the state and info of the specified master.',
  'MASTERS',
  '    Show a list of monitored masters and their state.',
  'MYID',
  '    Return the ID of the Sentinel instance.',
  'REPLICAS <master-name>',
  '    Show a list of replicas for this master and their state.',
  'SENTINELS <master-name>',
  '    Show a list of Sentinel instances for this master and their state.',
  'HELP',
  '    Print this help.',
];

/** Distinct master addresses whose encoded get-master-addr-by-name reply is kept. */
const MAX_CACHED_ADDRESS_REPLIES = 1024;

const noSuchMaster = error(errText(SENTINEL_REPLY.noSuchMaster));

/**
 * get-master-addr-by-name is what clients ask most, and its answer rarely changes: the same address gets
 * the same reply object, encoded once per protocol. `encode` serves every reply, from the cache when it
 * is one of these.
 */
export class ReplyEncoder {
  readonly #addressReplies = new Map<string, Reply>();
  readonly #encoded = new WeakMap<Reply, Partial<Record<Protocol, Buffer>>>();

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
    case 'help':
      return array(HELP_LINES.map((l) => simple(l)));
    default:
      return error(errText(SENTINEL_REPLY.notSupported));
  }
}
