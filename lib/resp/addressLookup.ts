/**
 * The command clients in Sentinel mode send most, `SENTINEL get-master-addr-by-name <name>`, answered
 * as it is read: recognised from its bytes, checked as commandRunner (commands.ts) checks it, and
 * answered with bytes encoded once per address and protocol, when the view holds the answer without
 * waiting (SentinelView.addressNow). Whatever this cannot answer exactly as commandRunner would (no user
 * yet, no permission, a RESP2 subscriber, an answer the view must read) takes the ordinary path, which
 * gives it its reply or error.
 */
import type { SentinelView } from '../commands/view.js';
import { lookupCommand, mayRun } from '../core/acl.js';
import { nullArray } from './encoder.js';
import type { ReplyEncoder } from './sentinelCommand.js';
import { type Client, subscribed } from './session.js';

/** A lower-case ASCII word, and per byte the bit that tells its letters' two cases apart. */
interface Word {
  readonly bytes: Uint8Array;
  readonly caseBits: Uint8Array;
}

function word(text: string): Word {
  const bytes = Buffer.from(text, 'latin1');
  return { bytes, caseBits: bytes.map((b) => (b >= 0x61 && b <= 0x7a ? 0x20 : 0)) };
}

/**
 * `arg` is `w` in any letter case (what toLowerCase() === w decides for these ASCII words: a byte
 * outside ASCII never matches, and neither word has a letter that a non-ASCII character lowers to).
 */
function sameWord(arg: Buffer, w: Word): boolean {
  const { bytes, caseBits } = w;
  if (arg.length !== bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) {
    if (((arg[i] as number) | (caseBits[i] as number)) !== bytes[i]) return false;
  }
  return true;
}

const COMMAND = word('sentinel');
const SUBCOMMAND = word('get-master-addr-by-name');

/**
 * The reply's bytes for a command that is get-master-addr-by-name and can be answered now exactly as
 * commandRunner would answer it (and then it counts as run: CLIENT LIST's cmd); null for any other
 * command, which takes the ordinary path.
 */
export type AddressLookup = (client: Client, command: readonly Buffer[]) => Buffer | null;

/** Null when the view cannot answer without waiting: then every command takes the ordinary path. */
export function addressLookup(view: SentinelView, replies: ReplyEncoder): AddressLookup | null {
  if (view.addressNow === undefined) return null;
  // What the ordinary path's checks know of the command: its ACL id and whether a rule may refuse it.
  const found = lookupCommand(['sentinel', 'get-master-addr-by-name', '']);
  if (found.kind !== 'found' || found.always || found.write) return null;
  const { id, name: fullName } = found;
  const addressNow = view.addressNow.bind(view);
  return (client, command) => {
    if (command.length !== 3) return null;
    const user = client.user;
    if (user === null || !mayRun(user, id)) return null;
    if (client.proto === 2 && subscribed(client)) return null;
    if (!sameWord(command[0] as Buffer, COMMAND) || !sameWord(command[1] as Buffer, SUBCOMMAND)) return null;
    let address: ReturnType<typeof addressNow>;
    try {
      address = addressNow((command[2] as Buffer).toString('utf8'));
    } catch {
      return null;
    }
    if (address === undefined) return null;
    client.lastCommand = fullName;
    return address === null
      ? replies.encode(nullArray, client.proto)
      : replies.addressBytes(address, client.proto);
  };
}
