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
