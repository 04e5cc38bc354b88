/**
 * What Node itself costs, as reference rows next to the endpoint: servers that do nothing but answer.
 * Measured on the same machine in the same run, they show how much of a gap is Node's sockets and HTTP
 * stack and how much is the endpoint's own work (parsing, the view, encoding).
 */
import { createServer as createHttpServer } from 'node:http';
import net from 'node:net';
import type { Address } from '../../lib/core/types.js';

export interface Floor {
  readonly address: Address;
  close(): Promise<void>;
}

/**
 * A node:net server that answers every request frame with the same pre-encoded bytes and parses
 * nothing: it counts frames by their leading `*` (enough for redis-benchmark's fixed requests).
 */
export async function startNetFloor(reply: Buffer): Promise<Floor> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      let frames = chunk[0] === 0x2a ? 1 : 0;
      for (let i = chunk.indexOf('\r\n*'); i !== -1; i = chunk.indexOf('\r\n*', i + 3)) frames += 1;
      if (frames === 1) socket.write(reply);
      else if (frames > 1) socket.write(Buffer.concat(Array.from({ length: frames }, () => reply)));
    });
  });
  return listen(server);
}

/** A node:http server that answers every request with the same JSON body. */
export async function startHttpFloor(body: string): Promise<Floor & { readonly url: string }> {
  const length = Buffer.byteLength(body);
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': length });
    res.end(body);
  });
  const floor = await listen(server);
  return { ...floor, url: `http://${floor.address.host}:${floor.address.port}` };
}

async function listen(server: net.Server): Promise<Floor> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    address: { host: '127.0.0.1', port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server && typeof server.closeAllConnections === 'function') {
          server.closeAllConnections();
        }
      }),
  };
}
