/**
 * One connection to the Redis-protocol endpoint, as the command handlers (commands.ts) and the connection
 * handling (server.ts) share it.
 */
import type net from 'node:net';
import type { AclUser } from '../core/acl.js';
import type { Protocol } from './encoder.js';

/** A command as read: its name, then its arguments. */
export type Args = readonly string[];

export interface Client {
  readonly id: number;
  readonly socket: net.Socket;
  /** When it connected (CLIENT LIST's age). */
  readonly connectedAt: number;
  /** The full name of the last command it ran, as CLIENT LIST shows it (`client|list`); NULL before. */
  lastCommand: string | null;
  proto: Protocol;
  /** Whom the connection acts as; null until it authenticates (when `default` needs a password). */
  user: AclUser | null;
  name: string | null;
  readonly channels: Set<string>;
  readonly patterns: Set<string>;
  closed: boolean;
  /** Commands read and not yet answered; the first is the one running. */
  readonly queue: Args[];
  /** Last time it sent bytes or got a reply (Redis's lastinteraction, for `timeout`). */
  lastActivity: number;
  /** When the command still arriving began, or null when none is (for the partial-command timeout). */
  frameStartedAt: number | null;
  /** Its next command waits for it to read its replies: it counts as idle while it does not. */
  awaitingOutput: boolean;
}

/** What INFO stats counts since the endpoint started (Redis's names, in INFO). */
export interface EndpointStats {
  connectionsReceived: number;
  commandsProcessed: number;
  netInputBytes: number;
  netOutputBytes: number;
  rejectedConnections: number;
  errorReplies: number;
}

export function newEndpointStats(): EndpointStats {
  return {
    connectionsReceived: 0,
    commandsProcessed: 0,
    netInputBytes: 0,
    netOutputBytes: 0,
    rejectedConnections: 0,
    errorReplies: 0,
  };
}

export function subscriptionCount(client: Client): number {
  return client.channels.size + client.patterns.size;
}

/** Whether it holds a subscription: RESP2 then limits its commands, and no idle timeout applies. */
export function subscribed(client: Client): boolean {
  return subscriptionCount(client) > 0;
}
