/**
 * Client reconfiguration beyond scripts, on `+switch-master` (used by functions/notify.ts):
 *
 * - Route 53: UPSERT a record for a stable primary name (like ElastiCache's primary endpoint) with a
 *   short TTL: an A record for an IPv4 address, AAAA for IPv6, CNAME for a host name. Configured with
 *   ROUTE53_ZONE_ID and ROUTE53_RECORD_NAME; `{master}` in the name is replaced by the master's name, so
 *   one deployment can keep a name per master (e.g. `{master}.redis.internal.`).
 * - EventBridge: PutEvents with source `lambda-sentinel`, detail-type `switch-master`, for teams that
 *   react in code. Configured with EVENT_BUS_NAME.
 *
 * The payload is Sentinel's `<name> <old-ip> <old-port> <new-ip> <new-port>`, parsed strictly. A
 * malformed one is never acted on (the caller logs it and moves on; it is never thrown). AWS errors do
 * throw, so the stream record is retried (Route 53 UPSERT is idempotent; PutEvents is at least once, and
 * its detail carries the event id for consumers that deduplicate).
 */
import { isIP } from 'node:net';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ChangeResourceRecordSetsCommand, type RRType } from '@aws-sdk/client-route-53';
import { MAX_PORT } from '../../core/constants.js';
import type { EventRecord } from '../../eventLog.js';

/** Seconds. Short, so clients follow a failover quickly; DNS resolvers may still cache a little longer. */
export const PRIMARY_RECORD_TTL_SECONDS = 5;
export const EVENT_SOURCE = 'lambda-sentinel';
export const EVENT_DETAIL_TYPE = 'switch-master';
export const MASTER_PLACEHOLDER = '{master}';

export interface SwitchMaster {
  readonly master: string;
  readonly oldHost: string;
  readonly oldPort: number;
  readonly newHost: string;
  readonly newPort: number;
}

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

const HOST_NAME =
  /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

const isHost = (text: string): boolean => isIP(text) !== 0 || HOST_NAME.test(text);

function port(text: string): number | null {
  if (!/^[0-9]{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 && n <= MAX_PORT ? n : null;
}

/** Strict: exactly five fields separated by single spaces, valid hosts and ports 1–65535. */
export function parseSwitchMaster(payload: string): Parsed<SwitchMaster> {
  const fields = payload.split(' ');
  if (fields.length !== 5 || fields.some((f) => f === '')) {
    return { ok: false, reason: 'expected "<name> <old-ip> <old-port> <new-ip> <new-port>"' };
  }
  const [master, oldHost, oldPortText, newHost, newPortText] = fields as [
    string,
    string,
    string,
    string,
    string,
  ];
  const oldPort = port(oldPortText);
  const newPort = port(newPortText);
  if (!isHost(oldHost)) return { ok: false, reason: `old address "${oldHost}" is not an IP or host name` };
  if (!isHost(newHost)) return { ok: false, reason: `new address "${newHost}" is not an IP or host name` };
  if (oldPort === null) return { ok: false, reason: `old port "${oldPortText}" is not a port` };
  if (newPort === null) return { ok: false, reason: `new port "${newPortText}" is not a port` };
  return { ok: true, value: { master, oldHost, oldPort, newHost, newPort } };
}

/** The `+switch-master` of a record, checked against the record's master. */
export function switchMasterOf(record: EventRecord): Parsed<SwitchMaster> {
  const parsed = parseSwitchMaster(record.payload);
  if (parsed.ok && record.master !== null && parsed.value.master !== record.master) {
    return {
      ok: false,
      reason: `payload names master "${parsed.value.master}", the event "${record.master}"`,
    };
  }
  return parsed;
}

/** The least each target needs from its SDK client, so tests can pass a small fake. */
export interface SendsCommands {
  send(command: object): Promise<unknown>;
}

export interface Route53Target {
  readonly client: SendsCommands;
  readonly zoneId: string;
  /** May contain `{master}`. */
  readonly recordName: string;
  readonly ttlSeconds?: number;
}

export interface EventBridgeTarget {
  readonly client: SendsCommands;
  readonly busName: string;
}

export interface SwitchMasterTargets {
  readonly route53?: Route53Target;
  readonly eventBridge?: EventBridgeTarget;
}

const DNS_LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

export function recordNameFor(template: string, master: string): Parsed<string> {
  if (!template.includes(MASTER_PLACEHOLDER)) return { ok: true, value: template };
  if (!DNS_LABEL.test(master)) {
    return { ok: false, reason: `master name "${master}" cannot be a DNS label for ${template}` };
  }
  return { ok: true, value: template.split(MASTER_PLACEHOLDER).join(master.toLowerCase()) };
}

export function recordTypeFor(host: string): RRType {
  const family = isIP(host);
  return family === 4 ? 'A' : family === 6 ? 'AAAA' : 'CNAME';
}

export function route53Change(target: Route53Target, change: SwitchMaster, record: EventRecord) {
  const name = recordNameFor(target.recordName, change.master);
  if (!name.ok) return name;
  const value = {
    HostedZoneId: target.zoneId,
    ChangeBatch: {
      Comment:
        `${EVENT_SOURCE} +switch-master ${change.master} epoch ${record.epoch ?? '?'} (${record.id})`.slice(
          0,
          256,
        ),
      Changes: [
        {
          Action: 'UPSERT' as const,
          ResourceRecordSet: {
            Name: name.value,
            Type: recordTypeFor(change.newHost),
            TTL: target.ttlSeconds ?? PRIMARY_RECORD_TTL_SECONDS,
            ResourceRecords: [{ Value: change.newHost }],
          },
        },
      ],
    },
  };
  return { ok: true as const, value };
}

/** UPSERTs the primary record. Returns a reason when the name cannot be built (logged, not thrown). */
export async function upsertPrimaryRecord(
  target: Route53Target,
  change: SwitchMaster,
  record: EventRecord,
): Promise<Parsed<string>> {
  const built = route53Change(target, change, record);
  if (!built.ok) return built;
  await target.client.send(new ChangeResourceRecordSetsCommand(built.value));
  return { ok: true, value: built.value.ChangeBatch.Changes[0]?.ResourceRecordSet.Name ?? '' };
}

export function switchMasterDetail(change: SwitchMaster, record: EventRecord) {
  return {
    master: change.master,
    oldHost: change.oldHost,
    oldPort: change.oldPort,
    newHost: change.newHost,
    newPort: change.newPort,
    epoch: record.epoch,
    eventId: record.id,
    sentinel: record.sentinelId,
    time: new Date(record.at).toISOString(),
  };
}

export async function putSwitchMasterEvent(
  target: EventBridgeTarget,
  change: SwitchMaster,
  record: EventRecord,
): Promise<void> {
  const result = (await target.client.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: target.busName,
          Source: EVENT_SOURCE,
          DetailType: EVENT_DETAIL_TYPE,
          Time: new Date(record.at),
          Detail: JSON.stringify(switchMasterDetail(change, record)),
        },
      ],
    }),
  )) as { FailedEntryCount?: number; Entries?: Array<{ ErrorCode?: string; ErrorMessage?: string }> };
  if ((result?.FailedEntryCount ?? 0) > 0) {
    const entry = result.Entries?.[0];
    throw new Error(`PutEvents failed: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
  }
}

export interface SwitchMasterEnv {
  readonly ROUTE53_ZONE_ID?: string;
  readonly ROUTE53_RECORD_NAME?: string;
  readonly ROUTE53_TTL_SECONDS?: string;
  readonly EVENT_BUS_NAME?: string;
}

/**
 * The targets configured in the environment, with clients made by the given factories (the real SDK
 * clients by default, built once per container by the caller). Half a Route 53 configuration is an error.
 */
export function switchMasterTargetsFromEnv(
  env: SwitchMasterEnv,
  clients: { route53: () => SendsCommands; eventBridge: () => SendsCommands },
): SwitchMasterTargets {
  const zoneId = env.ROUTE53_ZONE_ID?.trim();
  const recordName = env.ROUTE53_RECORD_NAME?.trim();
  const busName = env.EVENT_BUS_NAME?.trim();
  if (Boolean(zoneId) !== Boolean(recordName)) {
    throw new Error('set both ROUTE53_ZONE_ID and ROUTE53_RECORD_NAME, or neither');
  }
  let ttlSeconds: number | undefined;
  if (env.ROUTE53_TTL_SECONDS?.trim()) {
    ttlSeconds = Number(env.ROUTE53_TTL_SECONDS);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > 86_400) {
      throw new Error(`ROUTE53_TTL_SECONDS must be an integer 0–86400, got "${env.ROUTE53_TTL_SECONDS}"`);
    }
  }
  return {
    ...(zoneId && recordName
      ? {
          route53: {
            client: clients.route53(),
            zoneId,
            recordName,
            ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
          },
        }
      : {}),
    ...(busName ? { eventBridge: { client: clients.eventBridge(), busName } } : {}),
  };
}
