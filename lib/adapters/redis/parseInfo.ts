/**
 * The INFO and PING boundary: Redis wire words in, domain values out.
 * Pure and total: any input yields a value, nothing here throws.
 */
import { MAX_PORT } from '../../core/constants.js';
import type { ConnectedReplica, PingReplyKind, ReplicationInfo } from '../../core/types.js';

export type ParseInfoResult =
  | { readonly ok: true; readonly info: ReplicationInfo }
  | { readonly ok: false; readonly reason: string };

/** INFO field names as Redis writes them. */
const FIELD = Object.freeze({
  runId: 'run_id',
  role: 'role',
  loading: 'loading',
  masterHost: 'master_host',
  masterPort: 'master_port',
  masterLinkStatus: 'master_link_status',
  masterLinkDownSinceSeconds: 'master_link_down_since_seconds',
  // Redis 5+ writes slave_priority; newer versions may also (or only) write replica_priority.
  slavePriority: 'slave_priority',
  replicaPriority: 'replica_priority',
  slaveReplOffset: 'slave_repl_offset',
  replicaAnnounced: 'replica_announced',
  masterReplOffset: 'master_repl_offset',
  redisVersion: 'redis_version',
});

/** The fields parseInfo reads: every other line is skipped without cutting out its value. */
const WANTED_FIELDS: ReadonlySet<string> = new Set(Object.values(FIELD));
const CR = 0x0d;
const HASH = 0x23;

/** Wire values with a meaning of their own. */
const WIRE = Object.freeze({
  roleMaster: 'master',
  roleReplica: 'slave',
  linkUp: 'up',
  flagOn: '1',
  flagOff: '0',
});

/** `slave0`, `slave1`, … : one line per connected replica in a master's INFO. */
const REPLICA_LINE_KEY = /^slave\d+$/;
const INTEGER = /^[+-]?\d+$/;
const MS_PER_SECOND = 1_000;

/**
 * Prefixes of the PING replies Sentinel tells apart (§1.3). Sentinel compares the reply's first bytes,
 * case-sensitively, so `PONG` and `PONG extra` are both a pong and `pong` is not.
 */
const PING_REPLY_PREFIXES: readonly (readonly [string, PingReplyKind])[] = Object.freeze([
  ['PONG', 'pong'],
  ['LOADING', 'loading'],
  ['MASTERDOWN', 'masterdown'],
  ['BUSY', 'busy'],
] as const);

/** Classify a PING reply: a status text (`PONG`) or an error reply's text without the leading `-`. */
export function classifyPingReply(textOrError: string): PingReplyKind {
  for (const [prefix, kind] of PING_REPLY_PREFIXES) {
    if (textOrError.startsWith(prefix)) return kind;
  }
  return 'error';
}

function parseInteger(value: string | undefined): number | null {
  if (value === undefined || !INTEGER.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * Replication offsets count bytes from 0: Redis never writes a negative one. A negative value is garbage
 * and reads as absent, so it can never rank a replica (selection compares offsets).
 */
function parseOffset(value: string | undefined): number | null {
  const n = parseInteger(value);
  return n !== null && n >= 0 ? n : null;
}

/** Above MAX_PORT a port is not a port; such replica lines are skipped like Sentinel skips unparsable ones. */
function parsePort(value: string | undefined): number | null {
  const n = parseInteger(value);
  return n !== null && n >= 0 && n <= MAX_PORT ? n : null;
}

/**
 * A `slaveN:` value. Two forms exist, and Sentinel reads both:
 * `ip=10.0.0.2,port=6380,state=online,offset=123,lag=0` (Redis ≥ 2.8) and `10.0.0.2,6380,online` (older).
 * Returns null for a line without a usable ip and port (Sentinel skips those too).
 */
function parseReplicaLine(value: string): ConnectedReplica | null {
  const parts = value.split(',');
  if (!value.includes('=')) {
    const [host, port, state] = parts;
    const portNumber = parsePort(port);
    if (!host || portNumber === null) return null;
    return { host, port: portNumber, state: state ?? '', offset: 0, lag: 0 };
  }
  const fields = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const host = fields.get('ip');
  const port = parsePort(fields.get('port'));
  if (!host || port === null) return null;
  return {
    host,
    port,
    state: fields.get('state') ?? '',
    offset: parseOffset(fields.get('offset')) ?? 0,
    lag: parseInteger(fields.get('lag')) ?? 0,
  };
}

/**
 * Parse the text of `INFO` (any sections; `\r\n` or `\n`). Unknown fields are ignored. The only hard
 * requirement is a `role:` line reading `master` or `slave`: without it the text is not an INFO reply
 * this code can act on. Fields that are present but malformed read as absent (null).
 *
 * `master_link_down_since_seconds` is converted to milliseconds as Sentinel does (×1000, 0 when
 * absent). Redis reports -1 while a replica has never been linked since it started; that stays -1000,
 * as in Sentinel, so "≠ 0" still means "link not up".
 */
export function parseInfo(text: string): ParseInfoResult {
  if (typeof text !== 'string') return { ok: false, reason: 'INFO reply is not text' };
  // Only the fields read below are kept. A sentinel parses every instance's INFO every 10 s, a hundred
  // lines or more each: the lines are walked in place, and only a wanted field's value is cut out.
  const fields = new Map<string, string>();
  const replicas: ConnectedReplica[] = [];
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === CR) end -= 1;
    if (end > start && text.charCodeAt(start) !== HASH) {
      const colon = text.indexOf(':', start);
      if (colon > start && colon < end) {
        const key = text.slice(start, colon);
        if (WANTED_FIELDS.has(key)) {
          fields.set(key, text.slice(colon + 1, end));
        } else if (REPLICA_LINE_KEY.test(key)) {
          const replica = parseReplicaLine(text.slice(colon + 1, end));
          if (replica) replicas.push(replica);
        }
      }
    }
    start = next;
  }

  const roleWord = fields.get(FIELD.role);
  if (roleWord === undefined) return { ok: false, reason: 'no role field in INFO reply' };
  if (roleWord !== WIRE.roleMaster && roleWord !== WIRE.roleReplica) {
    return { ok: false, reason: `unknown role in INFO reply: ${JSON.stringify(roleWord.slice(0, 40))}` };
  }
  const role = roleWord === WIRE.roleMaster ? 'master' : 'replica';
  const downSinceSeconds = parseInteger(fields.get(FIELD.masterLinkDownSinceSeconds));

  const info: ReplicationInfo = {
    runId: fields.get(FIELD.runId) || null,
    role,
    loading: fields.get(FIELD.loading) === WIRE.flagOn,
    masterHost: fields.get(FIELD.masterHost) || null,
    masterPort: parsePort(fields.get(FIELD.masterPort)),
    masterLinkUp: fields.get(FIELD.masterLinkStatus) === WIRE.linkUp,
    masterLinkDownSinceMs: downSinceSeconds === null ? 0 : downSinceSeconds * MS_PER_SECOND,
    replicaPriority:
      parseInteger(fields.get(FIELD.slavePriority)) ?? parseInteger(fields.get(FIELD.replicaPriority)),
    replicaOffset: parseOffset(fields.get(FIELD.slaveReplOffset)),
    // Absent on versions before 6.2, which announce every replica.
    replicaAnnounced: fields.get(FIELD.replicaAnnounced) !== WIRE.flagOff,
    masterReplOffset: parseOffset(fields.get(FIELD.masterReplOffset)),
    connectedReplicas: replicas,
    redisVersion: fields.get(FIELD.redisVersion) || null,
  };
  // The strings above are slices of `text`, and V8 keeps the whole of a string alive while any slice of
  // 13 characters or more (the 40-character run id) is referenced: every instance's last INFO reply,
  // several KB each, for as long as its observation lives. A structured clone holds copies instead.
  return { ok: true, info: structuredClone(info) };
}
