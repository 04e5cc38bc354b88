/**
 * What every connection to a Redis instance shares, whoever opens it: the TLS options read from the
 * configured files, and the fail-fast options of the connections made with ioredis (control.ts, and the
 * side connections that tests and fixtures open). The probe (probe.ts) speaks RESP itself.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions } from 'ioredis';
import type { TlsSettings } from '../../core/types.js';

/**
 * The fixed fail-fast part of every ioredis connection. Without these, ioredis 6 queues commands while
 * offline, retries them 20 times and spends ~2 s on a RESP3/CLIENT SETINFO handshake against a frozen
 * server; with them a command either goes out on a ready socket or fails at once.
 */
export const PROBE_CLIENT_OPTIONS = Object.freeze({
  lazyConnect: true,
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
  retryStrategy: (): null => null,
  enableReadyCheck: false,
  protocol: 2,
  disableClientInfo: true,
  disconnectTimeout: 50,
  autoResubscribe: false,
  autoResendUnfulfilledCommands: false,
} satisfies RedisOptions);

/** The TLS options of tls-* directives: the files are read here, once, and may throw. */
export function readTlsOptions(tls: TlsSettings): ConnectionOptions {
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.caCertFile ? { ca: readFileSync(tls.caCertFile) } : {}),
    ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
    ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
  };
}
