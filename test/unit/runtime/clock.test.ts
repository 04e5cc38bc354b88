import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../lib/runtime/clock.js';
import { allocatePorts, type RedisHandle, startRedis } from '../../../lib/runtime/redisProcess.js';

/** Blocks the event loop, as a long GC pause or a starved CPU does. */
function stall(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing else in this process runs
  }
}

describe('systemClock.sleep', () => {
  let redis: RedisHandle;
  let socket: Socket;
  beforeAll(async () => {
    const [port] = (await allocatePorts(1)) as [number];
    redis = await startRedis({ port, args: ['--save', '', '--appendonly', 'no'] });
    socket = connect(redis.address.port, redis.address.host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  });
  afterAll(async () => {
    socket?.destroy();
    await redis?.stop();
  });

  it('wakes only after the replies that arrived during a stall have been read', async () => {
    let replyRead = false;
    socket.once('data', () => {
      replyRead = true;
    });
    const woke = systemClock.sleep(5);
    socket.write('PING\r\n');
    // The timer falls due and the PONG reaches the kernel (another process) while this loop is blocked.
    stall(300);
    await woke;
    // A sleeper woken straight from its timer would run here before the socket is read.
    expect(replyRead).toBe(true);
  });

  it('still wakes at once when aborted, and after at least the time asked', async () => {
    const controller = new AbortController();
    const aborted = systemClock.sleep(60_000, controller.signal);
    controller.abort();
    await aborted;
    const started = Date.now();
    await systemClock.sleep(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(19);
  });
});
