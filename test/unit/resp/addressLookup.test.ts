/**
 * get-master-addr-by-name answered as it is read (lib/resp/addressLookup.ts) gives, byte for byte, what
 * the ordinary command path gives: the same replies and errors (NOAUTH, NOPERM, arity, a RESP2
 * subscriber's refusal), in the same order, in RESP2 and RESP3, for any mix of commands cut anywhere.
 * Two endpoints on the same store and users, one whose view cannot answer without waiting.
 */
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { storeSentinelView } from '../../../lib/commands/storeView.js';
import type { SentinelView } from '../../../lib/commands/view.js';
import { parseAccessFile } from '../../../lib/config/access.js';
import type { SentinelConfig } from '../../../lib/core/types.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../../../lib/resp/server.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const config: SentinelConfig = {
  global: globalSettings({ sentinelIds: ['sentinel-a', 'sentinel-b', 'sentinel-c'] }),
  masters: [masterSettings({ name: 'mymaster', host: '127.0.0.1', port: 7000 })],
};

const USERS = [
  'requirepass s3cret',
  'user reader on >r3ad &* +@read',
  'user mastersonly on >m &* +sentinel|masters',
  'user anyone on nopass -@all +ping',
].join('\n');

/** Generous: bounds a wait for replies that must come, never a measured time. */
const REPLY_WAIT_MS = 10_000;

const frame = (...args: string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/** Every case the answer-as-read path must tell apart… */
const LOOKUPS = [
  frame('SENTINEL', 'get-master-addr-by-name', 'mymaster'),
  frame('sentinel', 'GET-MASTER-ADDR-BY-NAME', 'mymaster'),
  frame('SeNtInEl', 'Get-Master-Addr-By-Name', 'mymaster'),
  frame('SENTINEL', 'get-master-addr-by-name', 'nope'),
  frame('SENTINEL', 'get-master-addr-by-name', 'mymaster', 'extra'),
  frame('SENTINEL', 'get-master-addr-by-name'),
  frame('SENTINEL', 'get-master-addr-by-nam', 'mymaster'),
  frame('SENTINEL', 'get_master_addr_by_name', 'mymaster'),
  // Bytes that differ from the words' by the letter-case bit only, without being letters.
  frame('SENTINEL', 'get\rmaster\raddr\rby\rname', 'mymaster'),
  frame('SENTINEL', 'GET\x0DMASTER-ADDR-BY-NAME', 'mymaster'),
  frame('SENTINEM', 'get-master-addr-by-name', 'mymaster'),
  frame('SENTINEL', 'get-master-addr-by-name', 'mymasteré'),
  frame('SENTINEL', 'get-master-addr-by-name', 'n'.repeat(1000)),
  'sentinel get-master-addr-by-name mymaster\r\n',
  'SENTINEL GET-MASTER-ADDR-BY-NAME "mymaster"\r\n',
];
/** …and the commands that change who may ask it, and how it is answered. */
const OTHERS = [
  frame('AUTH', 's3cret'),
  frame('AUTH', 'reader', 'r3ad'),
  frame('AUTH', 'mastersonly', 'm'),
  frame('AUTH', 'anyone', 'x'),
  frame('AUTH', 'wrong'),
  frame('HELLO', '3'),
  frame('HELLO', '2'),
  frame('HELLO', '3', 'AUTH', 'reader', 'r3ad'),
  frame('SUBSCRIBE', '+switch-master'),
  frame('UNSUBSCRIBE'),
  frame('PING'),
  frame('CLIENT', 'SETNAME', 'n1'),
  frame('CLIENT', 'GETNAME'),
  frame('SENTINEL', 'MASTER', 'nope'),
  frame('RESET'),
];
/** Back to a known state, then a reply that marks the end of everything sent. */
const END = `${frame('RESET')}${frame('AUTH', 's3cret')}${frame('PING', '__end__')}`;
const END_REPLY = '$7\r\n__end__\r\n';

let store: MemoryStore;
let answeredNow = 0;
let ordinary: SentinelEndpoint;
let hot: SentinelEndpoint;
let hotView: SentinelView;

async function endpoint(view: SentinelView): Promise<SentinelEndpoint> {
  const parsed = parseAccessFile(USERS, 'users');
  expect(parsed.issues).toEqual([]);
  return startSentinelEndpoint({ port: 0, view, users: parsed.access.users });
}

beforeAll(async () => {
  store = new MemoryStore();
  await store.ensureMaster({ name: 'mymaster', host: '127.0.0.1', port: 7000, now: Date.now() });
  // A cache that outlives the test: the view holds the address without waiting after its first read.
  const view = storeSentinelView(store, config, { failoverWaitMs: 200, addressCacheMs: 600_000 });
  const addressNow = view.addressNow?.bind(view);
  if (addressNow === undefined) throw new Error('the store view answers addressNow');
  hotView = {
    ...view,
    addressNow: (name) => {
      const address = addressNow(name);
      if (address !== undefined) answeredNow++;
      return address;
    },
  };
  const { addressNow: _without, ...waiting } = view;
  hot = await endpoint(hotView);
  ordinary = await endpoint(waiting);
  // The first read of each name, so that the hot view holds them.
  for (const name of ['mymaster', 'nope', 'mymasteré']) await view.addressOf(name);
});

afterAll(async () => {
  await hot?.close();
  await ordinary?.close();
});

/** Sends the chunks on a fresh connection (each as its own write), and returns everything read up to END's reply. */
async function exchange(target: SentinelEndpoint, chunks: readonly Buffer[]): Promise<string> {
  const socket = net.connect(target.address.port, target.address.host);
  socket.setNoDelay(true);
  try {
    return await new Promise<string>((resolve, reject) => {
      let data = '';
      const timer = setTimeout(
        () => reject(new Error(`no end reply; got ${JSON.stringify(data)}`)),
        REPLY_WAIT_MS,
      );
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`closed; got ${JSON.stringify(data)}`)));
      socket.on('data', (d) => {
        data += d.toString('latin1');
        if (data.endsWith(END_REPLY)) {
          clearTimeout(timer);
          resolve(data);
        }
      });
      socket.on('connect', async () => {
        for (const chunk of chunks) {
          socket.write(chunk);
          await new Promise((r) => setImmediate(r));
        }
      });
    });
  } finally {
    socket.destroy();
  }
}

function cut(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const point of [...points, bytes.length]) {
    if (point > last) out.push(bytes.subarray(last, point));
    last = point;
  }
  return out;
}

describe('get-master-addr-by-name answered as it is read', () => {
  it('answers a pipeline of lookups from the view without waiting, with the ordinary bytes', async () => {
    const before = answeredNow;
    const lookups = frame('SENTINEL', 'get-master-addr-by-name', 'mymaster').repeat(16);
    const wire = Buffer.from(`${frame('AUTH', 's3cret')}${lookups}${END}`);
    const got = await exchange(hot, [wire]);
    expect(answeredNow - before).toBe(16);
    expect(got).toBe(await exchange(ordinary, [wire]));
    expect(got).toBe(
      `+OK\r\n${'*2\r\n$9\r\n127.0.0.1\r\n$4\r\n7000\r\n'.repeat(16)}+RESET\r\n+OK\r\n${END_REPLY}`,
    );
  });

  it('fuzz: the same bytes as the ordinary path for any mix of commands, cut anywhere', async () => {
    const before = answeredNow;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('', frame('AUTH', 's3cret'), frame('HELLO', '3', 'AUTH', 'default', 's3cret')),
        fc.array(
          fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom(...LOOKUPS) },
            { weight: 2, arbitrary: fc.constantFrom(...OTHERS) },
          ),
          { minLength: 1, maxLength: 14 },
        ),
        fc.array(fc.nat(2000), { maxLength: 6 }),
        async (start, commands, cuts) => {
          const wire = Buffer.from(`${start}${commands.join('')}${END}`, 'utf8');
          const chunks = cut(wire, cuts);
          const [ours, theirs] = await Promise.all([exchange(hot, chunks), exchange(ordinary, chunks)]);
          expect(ours).toBe(theirs);
        },
      ),
      { numRuns: 150 },
    );
    // The hot path was taken, not only the ordinary one.
    expect(answeredNow - before).toBeGreaterThan(20);
  });
});
