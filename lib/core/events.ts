/**
 * Sentinel's events with their exact channel names and payloads.
 * `%@` ("instance details") is `<type> <name> <ip> <port>`, plus ` @ <master> <ip> <port>` for non-masters.
 */
import type { Address, SentinelEvent } from './types.js';

export const EVENT_LEVELS = {
  '+monitor': 'warning',
  '-monitor': 'warning',
  '+set': 'warning',
  '+reset-master': 'warning',
  '+slave': 'notice',
  '+reboot': 'notice',
  '+role-change': 'verbose',
  '-role-change': 'verbose',
  '+sdown': 'warning',
  '-sdown': 'warning',
  '+odown': 'warning',
  '-odown': 'warning',
  '+new-epoch': 'warning',
  '+vote-for-leader': 'warning',
  '+try-failover': 'warning',
  '+elected-leader': 'warning',
  '+failover-state-select-slave': 'warning',
  '-failover-abort-not-elected': 'warning',
  '+selected-slave': 'warning',
  '+failover-state-send-slaveof-noone': 'notice',
  '+failover-state-wait-promotion': 'notice',
  '-failover-abort-no-good-slave': 'warning',
  '-failover-abort-slave-timeout': 'warning',
  '+promoted-slave': 'warning',
  '+failover-state-reconf-slaves': 'warning',
  '+slave-reconf-sent': 'notice',
  '+slave-reconf-inprog': 'notice',
  '+slave-reconf-done': 'notice',
  '-slave-reconf-sent-timeout': 'notice',
  '+failover-end-for-timeout': 'warning',
  '+slave-reconf-sent-be': 'notice',
  '+failover-end': 'warning',
  '+switch-master': 'warning',
  '+convert-to-slave': 'notice',
  '+fix-slave-config': 'notice',
  '+tilt': 'warning',
  '-tilt': 'warning',
  '-script-error': 'warning',
  '-script-timeout': 'warning',
} as const satisfies Record<string, SentinelEvent['level']>;

export type EventType = keyof typeof EVENT_LEVELS;

export interface InstanceRef {
  readonly kind: 'master' | 'slave';
  readonly address: Address;
}

export interface MasterRef {
  readonly name: string;
  readonly address: Address;
}

/** Formats Sentinel's `%@` for an instance of a master. */
export function instanceDetails(master: MasterRef, instance: InstanceRef): string {
  const { host, port } = instance.address;
  if (instance.kind === 'master') return `master ${master.name} ${host} ${port}`;
  return `slave ${host}:${port} ${host} ${port} @ ${master.name} ${master.address.host} ${master.address.port}`;
}

export function makeEvent(
  type: EventType,
  payload: string,
  master: string | null,
  at: number,
): SentinelEvent {
  return { type, level: EVENT_LEVELS[type], payload, master, at };
}

/** An event about an instance (`%@` payload, optionally followed by extra text such as `#quorum 2/2`). */
export function instanceEvent(
  type: EventType,
  master: MasterRef,
  instance: InstanceRef,
  at: number,
  suffix?: string,
): SentinelEvent {
  const details = instanceDetails(master, instance);
  return makeEvent(type, suffix ? `${details} ${suffix}` : details, master.name, at);
}

/** The line a subscriber of `PSUBSCRIBE *` would see, and what the local runner prints. */
export function formatEvent(event: SentinelEvent): string {
  return `${event.type} ${event.payload}`;
}

const PORT_TOKEN = /^\d{1,5}$/;

/**
 * An event as Sentinel shows it with `announce-hostnames no`: every instance address given as a host
 * name, by the IP address it resolves to. `ipOf` says what a name resolved to (undefined: not known,
 * and the name stays). An address in a payload is always a host followed by its port (`%@`,
 * `+switch-master`'s old and new addresses) or a replica's `<host>:<port>` name, so only a token in one
 * of those two places is replaced, and only when it is a name `ipOf` knows: a master that happens to
 * be called like a host keeps its name.
 */
export function withHostsAsIps(
  event: SentinelEvent,
  ipOf: (host: string) => string | undefined,
): SentinelEvent {
  const tokens = event.payload.split(' ');
  let changed = false;
  const out = tokens.map((token, i) => {
    const next = tokens[i + 1];
    if (next !== undefined && PORT_TOKEN.test(next)) {
      const ip = ipOf(token);
      if (ip !== undefined) {
        changed = true;
        return ip;
      }
    }
    const colon = token.lastIndexOf(':');
    if (colon > 0 && PORT_TOKEN.test(token.slice(colon + 1))) {
      const ip = ipOf(token.slice(0, colon));
      if (ip !== undefined) {
        changed = true;
        return `${ip}:${token.slice(colon + 1)}`;
      }
    }
    return token;
  });
  return changed ? { ...event, payload: out.join(' ') } : event;
}
