/**
 * A TCP proxy in front of one Redis address, to simulate a network partition between one sentinel and
 * Redis (one proxy per sentinel in tests).
 *
 * cut() makes the path a black hole rather than a wall: connections are still accepted and nothing is
 * refused or reset, but no byte is forwarded either way, so a client sees timeouts, as it would behind a
 * partition that silently drops packets. (SIGSTOP freezes the server for everyone; this cuts only one
 * observer off.)
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import type { Address } from '../../lib/core/types.js';

export interface TcpProxy {
  /** Where clients connect: 127.0.0.1 and the proxy's own port. */
  readonly address: Address;
  /** Stop forwarding on every existing connection and black-hole new ones. */
  cut(): void;
  /** Forward new connections again; the black-holed ones are closed (their clients reconnect). */
  restore(): void;
  readonly isCut: boolean;
  /** Connections currently open on the client side (forwarding or black-holed). */
  readonly openConnections: number;
  close(): Promise<void>;
}

const LISTEN_HOST = '127.0.0.1';

/** A client connection and, unless black-holed from the start, its upstream connection. */
interface Pair {
  readonly client: Socket;
  readonly upstream: Socket | null;
  /** Once black-holed a pair never forwards again: restore() closes it instead. */
  blackHoled: boolean;
}

export async function startTcpProxy(target: Address): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let cut = false;

  const destroyPair = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  const server: Server = createServer((client) => {
    if (cut) {
      const pair: Pair = { client, upstream: null, blackHoled: true };
      pairs.add(pair);
      // Read and discard, so the client's writes succeed locally and nothing ever comes back.
      client.on('data', () => {});
      client.on('error', () => destroyPair(pair));
      client.on('close', () => destroyPair(pair));
      return;
    }
    const upstream = tcpConnect({ host: target.host, port: target.port });
    const pair: Pair = { client, upstream, blackHoled: false };
    pairs.add(pair);
    client.on('data', (chunk) => {
      if (!pair.blackHoled) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.blackHoled) client.write(chunk);
    });
    // A close or error on either side ends the pair, except while black-holed: then the other side must
    // not learn anything, so only the client side's own close/error ends it.
    for (const socket of [client, upstream]) {
      socket.on('error', () => {
        if (socket === client || !pair.blackHoled) destroyPair(pair);
      });
      socket.on('close', () => {
        if (socket === client || !pair.blackHoled) destroyPair(pair);
      });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Port 0: the kernel picks a free port and binds it atomically, so there is no race to lose.
    server.listen({ port: 0, host: LISTEN_HOST }, () => resolve());
  });
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('tcp proxy: unexpected listen address');

  return {
    address: { host: LISTEN_HOST, port: bound.port },
    get isCut() {
      return cut;
    },
    get openConnections() {
      return pairs.size;
    },
    cut() {
      cut = true;
      for (const pair of pairs) pair.blackHoled = true;
    },
    restore() {
      cut = false;
      for (const pair of [...pairs]) if (pair.blackHoled) destroyPair(pair);
    },
    close() {
      for (const pair of [...pairs]) destroyPair(pair);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
