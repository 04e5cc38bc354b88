/**
 * `lambda-sentinel local --webhook URL`: every event POSTed as JSON to a URL, for chat bots, scripts and
 * dashboards during development:
 *
 *   {"type":"+sdown","level":"warning","payload":"master mymaster 127.0.0.1 6379","master":"mymaster",
 *    "sentinelId":"sentinel-a","at":"2026-11-25T08:23:08.350Z","epoch":0}
 *
 * Fire and forget: `send` returns at once and never throws. Events are delivered one at a time, in order,
 * each POST bounded by `timeoutMs`. While the receiver is down (network error, timeout, 5xx, 408, 429) the
 * event at the head is retried with backoff and new events wait in a bounded queue; when the queue is
 * full the oldest waiting event is dropped, with a warning. A 4xx other than 408/429 means the receiver
 * will never accept that event: it is dropped with a warning and delivery goes on. A sentinel is never
 * blocked or crashed by its webhook.
 */
import type { SentinelEvent, SentinelId } from '../core/types.js';
import { redactSecrets } from '../eventLog.js';

export const WEBHOOK_DEFAULTS = {
  timeoutMs: 2_000,
  maxQueue: 1_000,
  retryBaseMs: 250,
  retryMaxMs: 5_000,
} as const;

export interface WebhookPayload {
  readonly type: string;
  readonly level: SentinelEvent['level'];
  readonly payload: string;
  readonly master: string | null;
  readonly sentinelId: SentinelId;
  /** ISO 8601. */
  readonly at: string;
  readonly epoch: number | null;
}

export interface WebhookSinkOptions {
  readonly timeoutMs?: number;
  readonly maxQueue?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly secrets?: readonly string[];
  /** Where warnings go (receiver down, events dropped, receiver back). Default: stderr. */
  readonly warn?: (message: string) => void;
  readonly fetch?: typeof fetch;
}

export interface WebhookStats {
  readonly delivered: number;
  readonly dropped: number;
  readonly queued: number;
}

export interface WebhookSink {
  /** Queues the event; never blocks, never throws. */
  send(event: SentinelEvent, sentinelId: SentinelId, epoch?: number | null): void;
  /** Waits until the queue is empty or `timeoutMs` passed (for shutdown). */
  flush(timeoutMs?: number): Promise<void>;
  /** Stops delivering; what is still queued is dropped. */
  close(): void;
  readonly stats: WebhookStats;
}

class PermanentFailure extends Error {}

export function toWebhookPayload(
  event: SentinelEvent,
  sentinelId: SentinelId,
  epoch: number | null,
  secrets: readonly string[] = [],
): WebhookPayload {
  const safe = redactSecrets(event, secrets);
  return {
    type: safe.type,
    level: safe.level,
    payload: safe.payload,
    master: safe.master,
    sentinelId,
    at: new Date(safe.at).toISOString(),
    epoch,
  };
}

/**
 * The URL as it may be shown: scheme, host and port. Its path, query and user info often carry a
 * token (Slack, Discord, basic auth), so they are never printed or logged. Throws for an invalid URL,
 * without repeating it.
 */
export function webhookOrigin(url: string): string {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new Error('the webhook URL is not a valid URL (not shown: it may hold a token)');
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new Error(`the webhook URL must be http or https, not ${target.protocol.slice(0, 16)}`);
  }
  return `${target.protocol}//${target.host}`;
}

/** Whether showing only webhookOrigin(url) leaves something out. */
export function webhookHasHiddenParts(url: string): boolean {
  const target = new URL(url);
  return (
    target.username !== '' ||
    target.password !== '' ||
    target.pathname !== '/' ||
    target.search !== '' ||
    target.hash !== ''
  );
}

export function createWebhookSink(url: string, options: WebhookSinkOptions = {}): WebhookSink {
  // An invalid URL fails here, at start-up, not per event; the error never shows it.
  const where = webhookOrigin(url);
  const target = new URL(url);
  const timeoutMs = options.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs;
  const maxQueue = Math.max(1, options.maxQueue ?? WEBHOOK_DEFAULTS.maxQueue);
  const retryBaseMs = options.retryBaseMs ?? WEBHOOK_DEFAULTS.retryBaseMs;
  const retryMaxMs = options.retryMaxMs ?? WEBHOOK_DEFAULTS.retryMaxMs;
  const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
  const doFetch = options.fetch ?? fetch;

  /** Events waiting; the one being delivered is `current`, not in the queue. */
  const queue: WebhookPayload[] = [];
  let current: WebhookPayload | null = null;
  let delivering: Promise<void> | null = null;
  let closed = false;
  let down = false;
  let droppedWhileDown = 0;
  let delivered = 0;
  let dropped = 0;
  let wake: (() => void) | null = null;
  let retryTimer: NodeJS.Timeout | null = null;

  async function post(payload: WebhookPayload): Promise<void> {
    let response: Response;
    try {
      response = await doFetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      throw new Error(name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${name}`);
    }
    await response.body?.cancel().catch(() => undefined);
    if (response.ok) return;
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    if (!retryable) throw new PermanentFailure(`HTTP ${response.status}`);
    throw new Error(`HTTP ${response.status}`);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      wake = resolve;
      retryTimer = setTimeout(resolve, ms);
      // Never keep the process alive just to retry a webhook.
      retryTimer.unref();
    });
  }

  async function deliverAll(): Promise<void> {
    for (current = queue.shift() ?? null; current !== null && !closed; current = queue.shift() ?? null) {
      const event: WebhookPayload = current;
      for (let failures = 0; !closed; ) {
        try {
          await post(event);
          delivered++;
          if (down) {
            down = false;
            warn(
              `webhook ${where}: delivering again` +
                (droppedWhileDown > 0 ? ` (${droppedWhileDown} events were dropped meanwhile)` : ''),
            );
          }
          droppedWhileDown = 0;
          break;
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          if (error instanceof PermanentFailure) {
            dropped++;
            warn(`webhook ${where}: ${reason} for ${event.type} from ${event.sentinelId}; event dropped`);
            break;
          }
          if (!down) {
            down = true;
            warn(`webhook ${where}: POST failed (${reason}); retrying, keeping at most ${maxQueue} events`);
          }
          failures++;
          await sleep(Math.min(retryBaseMs * 2 ** (failures - 1), retryMaxMs));
        }
      }
    }
    current = null;
  }

  function start(): void {
    if (delivering || closed) return;
    delivering = deliverAll()
      .catch((error: unknown) => warn(`webhook ${where}: ${String(error)}`))
      .finally(() => {
        delivering = null;
        if (!closed && queue.length > 0) start();
      });
  }

  return {
    send(event, sentinelId, epoch = null) {
      if (closed) return;
      try {
        queue.push(toWebhookPayload(event, sentinelId, epoch, options.secrets));
        while (queue.length > maxQueue) {
          queue.shift();
          dropped++;
          droppedWhileDown++;
          if (dropped === 1 || dropped % 100 === 0) {
            warn(
              `webhook ${where}: queue full (${maxQueue}); dropping the oldest events (${dropped} so far)`,
            );
          }
        }
        start();
      } catch (error) {
        warn(`webhook ${where}: ${String(error)}`);
      }
    },
    async flush(flushTimeoutMs = timeoutMs * 2) {
      const deadline = Date.now() + flushTimeoutMs;
      while ((queue.length > 0 || current !== null) && !closed && Date.now() < deadline) {
        // Cut a backoff short: shutting down is the moment to try once more.
        if (retryTimer) clearTimeout(retryTimer);
        wake?.();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      wake?.();
      dropped += queue.length; // the one in flight, if any, may still land
      queue.length = 0;
    },
    get stats() {
      return { delivered, dropped, queued: queue.length + (current === null ? 0 : 1) };
    },
  };
}
