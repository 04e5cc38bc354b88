/**
 * The clock of everything that decides: the sentinel loop, the failover runner, the monitor and the
 * SENTINEL command service take it as an option, so tests and the simulation run them on virtual time.
 * The core never reads a clock: `now` is always passed in. Code that only times its own I/O or stamps
 * what it writes reads Date.now() itself: client idle timeouts and INFO's uptime in the RESP endpoint,
 * waiting for a new table to become ACTIVE, for a redis-server to start, for a webhook queue to drain or
 * for a CLI failover to show, a Lambda handler's stop time, cache ages in the HTTP client's view, log
 * line times and the event recorder's first sequence number. None of it takes part in a Sentinel
 * decision.
 */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * `sleep` wakes in the event loop's check phase (setImmediate), one poll phase after its timer fired, not in
 * the timers phase itself. Node runs due timers before it reads the sockets; after a stall (a long GC, a
 * starved CPU) a sleeper woken straight from its timer would judge a master while that master's PONG, already
 * received by the kernel, still waits unread: "no valid reply for 5,026 ms" when the reply came at 4,900.
 * Waking after the poll phase reads what has arrived first, as Redis's own event loop handles file events
 * before time events. On an idle loop the difference is nil.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      let immediate: NodeJS.Immediate | undefined;
      const timer = setTimeout(
        () => {
          immediate = setImmediate(done);
        },
        Math.max(0, ms),
      );
      function done() {
        signal?.removeEventListener('abort', done);
        clearTimeout(timer);
        if (immediate !== undefined) clearImmediate(immediate);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};
