import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Address } from '../../lib/core/types.js';
import { allocatePorts } from '../../lib/runtime/redisProcess.js';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy.js';

/** How long "nothing arrives" is watched for. Black-hole assertions can only be bounded, not proven. */
const SILENCE_MS = 200;

const servers: Server[] = [];
const proxies: TcpProxy[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** An echo server: what the proxy forwards comes straight back. */
async function echoServer(): Promise<{ address: Address; peers: Set<Socket> }> {
  const peers = new Set<Socket>();
  const server = createServer((socket) => {
    peers.add(socket);
    socket.on('close', () => peers.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('no port');
  return { address: { host: '127.0.0.1', port: bound.port }, peers };
}

async function proxyTo(target: Address): Promise<TcpProxy> {
  const proxy = await startTcpProxy(target);
  proxies.push(proxy);
  return proxy;
}

/** A client with everything it received and whether it was closed. */
interface Client {
  readonly socket: Socket;
  received: string;
  closed: boolean;
}

function client(address: Address): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port });
    sockets.push(socket);
    const c: Client = { socket, received: '', closed: false };
    socket.on('data', (chunk) => {
      c.received += chunk.toString();
    });
    socket.on('close', () => {
      c.closed = true;
    });
    socket.once('connect', () => resolve(c));
    socket.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function roundTrip(c: Client, text: string): Promise<void> {
  c.socket.write(text);
  await expect.poll(() => c.received, { timeout: 2_000 }).toContain(text);
}

describe('tcpProxy', () => {
  it('listens on 127.0.0.1 on its own port and forwards both ways', async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.address);
    expect(proxy.address.host).toBe('127.0.0.1');
    expect(proxy.address.port).not.toBe(echo.address.port);
    const c = await client(proxy.address);
    await roundTrip(c, 'hello');
    await roundTrip(c, ' again');
    expect(proxy.openConnections).toBe(1);
  });

  it('cut(): existing and new connections become a black hole (accepted, silent, not closed)', async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.address);
    const before = await client(proxy.address);
    await roundTrip(before, 'ping1');
    proxy.cut();
    expect(proxy.isCut).toBe(true);

    before.socket.write('lost');
    // New connections are accepted (no refusal), so a client sees a timeout, not an error.
    const during = await client(proxy.address);
    during.socket.write('also lost');
    await sleep(SILENCE_MS);
    expect(before.received).toBe('ping1');
    expect(during.received).toBe('');
    expect(before.closed).toBe(false);
    expect(during.closed).toBe(false);
    // The upstream side of the old connection stays open too: Redis must not see a disconnect.
    expect(echo.peers.size).toBe(1);
  });

  it('restore(): black-holed connections are dropped, new ones forward again', async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.address);
    const before = await client(proxy.address);
    await roundTrip(before, 'x');
    proxy.cut();
    const during = await client(proxy.address);
    proxy.restore();
    expect(proxy.isCut).toBe(false);
    await expect.poll(() => before.closed && during.closed).toBe(true);
    await expect.poll(() => echo.peers.size).toBe(0);
    const after = await client(proxy.address);
    await roundTrip(after, 'back');
  });

  it('when the target refuses, the client is closed (a dead server, not a partition)', async () => {
    const [unusedPort] = (await allocatePorts(1)) as [number];
    const proxy = await proxyTo({ host: '127.0.0.1', port: unusedPort });
    const c = await client(proxy.address);
    await expect.poll(() => c.closed).toBe(true);
    expect(proxy.openConnections).toBe(0);
  });

  it('when the target closes a forwarding connection, the client is closed too', async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.address);
    const c = await client(proxy.address);
    await roundTrip(c, 'x');
    for (const peer of echo.peers) peer.destroy();
    await expect.poll(() => c.closed).toBe(true);
  });

  it('close() drops every connection and stops listening', async () => {
    const echo = await echoServer();
    const proxy = await startTcpProxy(echo.address);
    const c = await client(proxy.address);
    await roundTrip(c, 'x');
    await proxy.close();
    await expect.poll(() => c.closed).toBe(true);
    await expect(client(proxy.address)).rejects.toThrow(/ECONNREFUSED/);
  });
});
