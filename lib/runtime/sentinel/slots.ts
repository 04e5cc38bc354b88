/**
 * The loop's monitored masters (one slot each): started from the records (or the file) at the start of
 * an invocation, and kept in step with the records as they change: a failover's new address, SENTINEL
 * MONITOR, SET, RESET and REMOVE.
 */
import {
  decideAuthPass,
  describeWithheldAuthPass,
  effectiveOrigin,
  sameOrigin,
} from '../../core/authBinding.js';
import { INITIAL_MEMORY, type StoreView } from '../../core/decide.js';
import { makeEvent } from '../../core/events.js';
import { firstReadAt, READ_AT_ONCE } from '../../core/loopSchedule.js';
import { replicaAddresses } from '../../core/replicas.js';
import {
  RENAME_COMMAND,
  refusedRuntimeRenames,
  type SetChange,
  settingChanges,
} from '../../core/settings.js';
import type { Address, MasterOrigin, MasterRecord, MasterSettings, SentinelEvent } from '../../core/types.js';
import { REDACTED } from '../../eventLog.js';
import type { HandoverState, MasterHandover, RecordsHandover } from '../handover.js';
import { settingsOf } from '../masterSettings.js';
import { MasterMonitor, type MonitorSnapshot } from '../monitor.js';
import type { RecordsCopy } from './records.js';
import type { LoopParts, MasterSlot } from './types.js';

/** How many store requests a starting loop sends at once (record creation, recorded replicas). */
const START_REQUESTS_IN_FLIGHT = 16;

/** Runs `work` for every item, at most `limit` at a time. */
async function forEachAtMost<T>(limit: number, items: readonly T[], work: (item: T) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class MasterSlots {
  readonly #parts: LoopParts;
  readonly #records: RecordsCopy;
  /** Called when a master is no longer monitored (SENTINEL REMOVE), before its probing stops. */
  readonly #onDropped: (master: string) => void;
  #slots: MasterSlot[] = [];

  constructor(parts: LoopParts, records: RecordsCopy, onDropped: (master: string) => void) {
    this.#parts = parts;
    this.#records = records;
    this.#onDropped = onDropped;
  }

  /**
   * The slots now. Dropping a slot replaces the array and adding one appends to it: while it is the same
   * array, every slot of a copy taken earlier is still monitored.
   */
  get all(): MasterSlot[] {
    return this.#slots;
  }

  /**
   * Starts a slot per monitored master. The records come from the previous holder's copy when the
   * change counter says none changed since (and the backstop is not due), else from one read of them
   * all; with the store down, from that copy unconfirmed (views wait for the store) or from the file.
   */
  async start(resumed: HandoverState | null, carried: RecordsHandover | null): Promise<void> {
    const { options, clock, health } = this.#parts;
    const { config, store } = options;
    let records: readonly MasterRecord[] | null = null;
    let recordsAt: number | null = null;
    try {
      const read = await this.#records.readAtStart(carried);
      records = read.records;
      recordsAt = read.currentAt;
    } catch (error) {
      health.noteError(error);
      if (carried !== null) {
        // Probing starts from the copy; the first heartbeat that reaches the store confirms or replaces it.
        records = carried.records;
        this.#records.setAll(carried.records, carried.changeCounter, carried.fullReadAt);
      }
      // Without a copy: monitor what the file lists; masters added by MONITOR are picked up once the
      // store answers.
    }
    const viewOf = (record: MasterRecord | null): StoreView =>
      record !== null && recordsAt !== null
        ? { status: 'ok', record, votes: [], readAt: recordsAt }
        : { status: 'unavailable', reason: health.reason };
    const recorded = new Map((records ?? []).map((r) => [r.name, r]));
    // A master of the file without a record (a first deploy) gets one, seeded from its monitor line. A
    // few requests at a time: one after the other, a thousand masters would take most of a minute.
    if (recordsAt !== null) {
      const missing = config.masters.filter((m) => !recorded.has(m.name));
      await forEachAtMost(START_REQUESTS_IN_FLIGHT, missing, async (configured) => {
        try {
          const record = await store.ensureMaster({
            name: configured.name,
            host: configured.host,
            port: configured.port,
            now: clock.now(),
          });
          recorded.set(record.name, record);
          this.#records.set(record.name, record);
        } catch (error) {
          health.noteError(error);
        }
      });
    }
    const planned: Array<{
      name: string;
      settings: MasterSettings;
      record: MasterRecord | null;
      origin: MasterOrigin | null;
      previous: MasterHandover | null;
    }> = [];
    for (const configured of config.masters) {
      const record = recorded.get(configured.name) ?? null;
      // Removed by SENTINEL REMOVE: the file's monitor line does not bring it back.
      if (record !== null && !record.monitored) continue;
      // Without a record (the store did not answer), what is monitored is the file's entry: the
      // incarnation seeded from it, as effectiveOrigin reads a record that predates origins.
      const origin: MasterOrigin | null = record
        ? effectiveOrigin(config, record)
        : { source: 'config', host: configured.host, port: configured.port };
      const previous = this.#resumedPart(resumed, configured.name, origin);
      const settings = record ? settingsOf(config, record) : configured;
      planned.push({ name: configured.name, settings, record, origin, previous });
    }
    const configuredNames = new Set(config.masters.map((m) => m.name));
    for (const record of records ?? []) {
      if (!record.monitored || configuredNames.has(record.name)) continue;
      const origin = effectiveOrigin(config, record);
      const previous = this.#resumedPart(resumed, record.name, origin);
      planned.push({ name: record.name, settings: settingsOf(config, record), record, origin, previous });
    }
    // A master resumed from the hand-over knows its replicas; the others start from those recorded.
    const known = new Map<string, Address[]>();
    await forEachAtMost(
      START_REQUESTS_IN_FLIGHT,
      planned.filter((p) => p.previous === null),
      async (p) => known.set(p.name, await this.#knownReplicas(p.name)),
    );
    // Their names resolved first, so that +monitor gives the IP address (announce-hostnames no).
    await this.#parts.learnHosts(planned.map((p) => p.record?.host ?? p.settings.host));
    for (const p of planned) {
      this.#addSlot(p.settings, p.record, viewOf(p.record), p.origin, p.previous, known.get(p.name) ?? []);
    }
  }

  /**
   * The resumed state's part about one master, if it is of the incarnation monitored now. SENTINEL REMOVE
   * + MONITOR between two invocations gives the name another incarnation: the old one's replicas would be
   * probed with the new one's credentials, and its judgements are not the new one's. That master starts
   * with fresh observations, as after a gap; the others resume. Entries for masters no longer monitored
   * are never looked up.
   */
  #resumedPart(
    resumed: HandoverState | null,
    name: string,
    origin: MasterOrigin | null,
  ): MasterHandover | null {
    const part = resumed?.masters.get(name);
    if (part === undefined) return null;
    if (sameOrigin(part.origin, origin)) return part;
    this.#parts.log(
      'info',
      'hand-over state of a master is from another incarnation; starting it with fresh observations',
      {
        master: name,
        handedOverOrigin: describeOrigin(part.origin),
        origin: describeOrigin(origin),
      },
    );
    return null;
  }

  /** Replicas recorded in the store (by any sentinel), for an invocation that starts without hand-over. */
  async #knownReplicas(master: string): Promise<Address[]> {
    const { options, health } = this.#parts;
    if (health.down) return [];
    try {
      return replicaAddresses(await options.store.listReplicas(master));
    } catch (error) {
      health.noteError(error);
      return [];
    }
  }

  #addSlot(
    settings: MasterSettings,
    record: MasterRecord | null,
    view: StoreView | null,
    origin: MasterOrigin | null,
    previous: MasterHandover | null,
    knownReplicas: readonly Address[] = [],
  ): void {
    const address = record
      ? { host: record.host, port: record.port }
      : { host: settings.host, port: settings.port };
    if (record) this.#noteWithheldAuthPass(record);
    if (record) this.#noteRefusedRenames(record);
    // A vote handed over stands: the previous holder released the lease after its last write (its
    // loop had ended), so nothing older than its votes can still be written; the next vote this
    // invocation writes carries the new token. A fresh start writes every vote again under the new token,
    // which fences a holder that lost its lease without releasing it and may still be running.
    const memory = previous ? previous.memory : INITIAL_MEMORY;
    // +monitor first: the monitor announces the recorded replicas (+slave) as it starts.
    if (!previous) this.#parts.emit(makeMonitorEvent(settings, address, this.#parts.clock.now()));
    const monitor = this.#newMonitor(settings, address, previous?.monitor, knownReplicas);
    monitor.start();
    this.#slots.push({
      settings,
      origin,
      settingsVersion: record?.settingsVersion ?? 0,
      resetAt: record?.resetAt ?? null,
      monitor,
      memory,
      view,
      votes: [],
      votesReadAt: Number.NEGATIVE_INFINITY,
      replicasRead: null,
      // A record the store vouched for is kept current by the change counter; without one, read it now.
      nextReadAt: firstReadAt(view?.status === 'ok'),
      lastDecision: null,
    });
  }

  #newMonitor(
    settings: MasterSettings,
    address: Address,
    resume: MonitorSnapshot | undefined,
    knownReplicas: readonly Address[] = [],
  ): MasterMonitor {
    const { options, clock } = this.#parts;
    return new MasterMonitor({
      settings,
      global: options.config.global,
      masterAddress: address,
      probeFactory: options.probeFactory,
      clock,
      clientName: `sentinel-${options.sentinelId}-cmd`.replace(/[^\w-]/g, ''),
      onEvent: (event) => this.#parts.emit(event),
      onReplicaDiscovered: (replica) => void this.#recordReplica(settings.name, replica),
      onReplicaAnnounced: (replica, announced) => void this.#recordReplica(settings.name, replica, announced),
      resume,
      knownReplicas,
    });
  }

  /**
   * At each heartbeat: one read of the change counter. Unchanged, every record in hand is current as of
   * that read (the time it was sent: a change that completed before then was counted before then,
   * unless its increment was lost, which the full read every recordsFullReadPeriodMs covers). Changed, or
   * the backstop due, or no counter to compare with: every record is read again and applied — SET,
   * RESET, REMOVE, a failover's new address — and masters added by MONITOR start being monitored.
   */
  async refresh(): Promise<void> {
    const { options, clock, health } = this.#parts;
    const { store } = options;
    const sentAt = clock.now();
    try {
      const counter = await store.getChangeCounter();
      this.#records.noteUnreadableCounter(counter);
      if (this.#records.stillCurrent(counter, sentAt)) {
        health.noteRead(clock.now());
        for (const slot of [...this.#slots]) {
          const record = this.#records.get(slot.settings.name);
          if (record === undefined) slot.nextReadAt = READ_AT_ONCE;
          else if (this.#slots.includes(slot)) await this.applyRecord(slot, record, sentAt);
        }
        return;
      }
      const listSentAt = clock.now();
      const records = await store.listMasters();
      this.#records.setAll(records, counter, listSentAt);
      health.noteRead(clock.now());
      await this.#applyRecords(records, listSentAt);
    } catch (error) {
      health.noteError(error);
    }
  }

  /** Applies a fresh read of every record to the slots, and starts the masters added since. */
  async #applyRecords(records: readonly MasterRecord[], currentAt: number): Promise<void> {
    const byName = new Map(records.map((r) => [r.name, r]));
    for (const slot of [...this.#slots]) {
      if (!this.#slots.includes(slot)) continue;
      const record = byName.get(slot.settings.name);
      // No record (never created, or deleted by hand): the master's own read creates it (ensureMaster).
      if (record === undefined) slot.nextReadAt = READ_AT_ONCE;
      else await this.applyRecord(slot, record, currentAt);
    }
    const { config } = this.#parts.options;
    for (const record of records) {
      if (!record.monitored || this.#slots.some((s) => s.settings.name === record.name)) continue;
      // Added by SENTINEL MONITOR (or revived) since the last look.
      const known = await this.#knownReplicas(record.name);
      const origin = effectiveOrigin(config, record);
      const view: StoreView = { status: 'ok', record, votes: [], readAt: currentAt };
      await this.#parts.learnHosts([record.host]);
      this.#addSlot(settingsOf(config, record), record, view, origin, null, known);
    }
  }

  /**
   * The record, known current at `currentAt`, into the slot: its run-time configuration, its address
   * (the monitor follows a failover), and the core's view. False when the record removed the master.
   */
  async applyRecord(slot: MasterSlot, record: MasterRecord, currentAt: number): Promise<boolean> {
    if (!(await this.#applyRecordConfig(slot, record))) return false;
    const readAt = slot.view?.status === 'ok' ? Math.max(slot.view.readAt, currentAt) : currentAt;
    slot.view = { status: 'ok', record, votes: slot.votes, readAt };
    const before = slot.monitor.masterAddress;
    if (before.host !== record.host || before.port !== record.port) {
      // The master switched: what was judged of the old one does not carry over (Sentinel resets the
      // master's flags at a switch, without -sdown/-odown), and the vote must be re-cast for the new one.
      slot.memory = { ...slot.memory, sdownSince: null, odownSince: null, voteWritten: null };
    }
    slot.monitor.repoint({ host: record.host, port: record.port });
    return true;
  }

  /**
   * Follows the record's run-time configuration: REMOVE stops monitoring (-monitor), SET applies the new
   * settings (+set per changed option), RESET forgets the replicas (+reset-master) so they are
   * rediscovered from the master's INFO. Returns false when the slot was dropped.
   */
  async #applyRecordConfig(slot: MasterSlot, record: MasterRecord): Promise<boolean> {
    if (!record.monitored) {
      await this.#dropSlot(slot);
      return false;
    }
    if (record.settingsVersion === slot.settingsVersion && record.resetAt === slot.resetAt) return true;
    const { options, clock, log } = this.#parts;
    const now = clock.now();
    const next = settingsOf(options.config, record);
    this.#noteWithheldAuthPass(record);
    this.#noteRefusedRenames(record);
    const changes = settingChanges(slot.settings, next);
    const reset = record.resetAt !== null && record.resetAt !== slot.resetAt;
    // REMOVE + MONITOR seen as one change: a new incarnation. It may not get the old one's credentials,
    // nor carry over the old one's replicas (they would be probed with its own); its INFO tells its own.
    const authChanged = slot.settings.authPass !== next.authPass || slot.settings.authUser !== next.authUser;
    const origin = effectiveOrigin(options.config, record);
    const reincarnated = !sameOrigin(slot.origin, origin);
    const forgetReplicas = reset || reincarnated;
    slot.origin = origin;
    slot.settingsVersion = record.settingsVersion;
    slot.resetAt = record.resetAt;
    if (changes.length === 0 && !forgetReplicas && !authChanged) return true;
    const address = slot.monitor.masterAddress;
    const instance = `master ${slot.settings.name} ${address.host} ${address.port}`;
    for (const change of changes)
      this.#parts.emit(makeEvent('+set', `${instance} ${setEventText(change)}`, record.name, now));
    if (reset) this.#parts.emit(makeEvent('+reset-master', instance, record.name, now));
    // Probing runs with the settings it was started with: restart it, keeping what it observed (and,
    // after a RESET, only the master: replicas are rediscovered from its INFO, as Sentinel does).
    const snapshot = slot.monitor.snapshot();
    await slot.monitor.stop();
    slot.settings = next;
    // A new incarnation starts at its own address: started at the old one, its credentials would reach
    // the old server, and the move would look like a failover that keeps the old master as a replica.
    // Nothing judged of the old master carries over (as at a switch, in applyRecord).
    const startAt = reincarnated ? { host: record.host, port: record.port } : address;
    if (reincarnated) slot.memory = { ...slot.memory, sdownSince: null, odownSince: null, voteWritten: null };
    slot.monitor = this.#newMonitor(
      next,
      startAt,
      forgetReplicas ? { master: snapshot.master, replicas: [] } : snapshot,
    );
    slot.monitor.start();
    if (forgetReplicas) slot.memory = { ...slot.memory, replicaSdownSince: {} };
    log('info', 'applied run-time configuration', {
      master: record.name,
      settingsVersion: record.settingsVersion,
      changes: changes.map(loggedChange),
      reset,
    });
    return true;
  }

  /** Incarnations (master, origin) already warned about: the warning is logged once, not per tick. */
  readonly #withheldWarned = new Set<string>();

  /** Says once per incarnation that a configured password is not sent to this master, and why. */
  #noteWithheldAuthPass(record: MasterRecord): void {
    const decision = decideAuthPass(this.#parts.options.config, record);
    if (decision.use !== 'withheld') return;
    const key = JSON.stringify([record.name, decision.origin]);
    if (this.#withheldWarned.has(key)) return;
    this.#withheldWarned.add(key);
    const { message, fields } = describeWithheldAuthPass(record.name, decision);
    this.#parts.log('warn', message, fields);
  }

  /** Settings versions (per master) whose refused renames were reported: one warning each. */
  readonly #refusedRenamesWarned = new Set<string>();

  /**
   * A stored rename-command that SET would refuse (another command's name, not a command name) is not
   * applied (withRuntimeSettings): the command goes out under its configured name and nothing else
   * changes. Said once per settings version, naming the commands, never the stored new names.
   */
  #noteRefusedRenames(record: MasterRecord): void {
    const commands = refusedRuntimeRenames(record.settings);
    if (commands.length === 0) return;
    const key = JSON.stringify([record.name, record.settingsVersion]);
    if (this.#refusedRenamesWarned.has(key)) return;
    this.#refusedRenamesWarned.add(key);
    this.#parts.log(
      'warn',
      'stored rename-command refused: the commands are sent under their configured names',
      {
        master: record.name,
        settingsVersion: record.settingsVersion,
        commands,
      },
    );
  }

  /** SENTINEL REMOVE: stop probing the master and any failover this sentinel runs for it. */
  async #dropSlot(slot: MasterSlot): Promise<void> {
    this.#slots = this.#slots.filter((s) => s !== slot);
    this.#onDropped(slot.settings.name);
    await slot.monitor.stop();
    const address = slot.monitor.masterAddress;
    this.#parts.emit(
      makeEvent(
        '-monitor',
        `master ${slot.settings.name} ${address.host} ${address.port}`,
        slot.settings.name,
        this.#parts.clock.now(),
      ),
    );
  }

  /** Per replica, the last record write: the writes of one replica go out one after the other. */
  readonly #replicaWrites = new Map<string, Promise<void>>();

  /**
   * Records a replica: when discovered in the master's INFO, and with its `replica_announced` when its
   * own INFO first gives it and when it changes. One replica's writes are sent in order, so a discovery
   * (no flag) never lands after the flag it preceded.
   */
  #recordReplica(
    master: string,
    address: { host: string; port: number },
    announced?: boolean,
  ): Promise<void> {
    const { options, clock, health } = this.#parts;
    const key = JSON.stringify([master, address.host, address.port]);
    const write = (this.#replicaWrites.get(key) ?? Promise.resolve()).then(async () => {
      try {
        await options.store.upsertReplica({
          master,
          host: address.host,
          port: address.port,
          runId: null,
          lastSeenAt: clock.now(),
          seenBy: options.sentinelId,
          ...(announced === undefined ? {} : { announced }),
        });
      } catch (error) {
        health.noteError(error);
      }
    });
    this.#replicaWrites.set(key, write);
    void write.then(() => {
      if (this.#replicaWrites.get(key) === write) this.#replicaWrites.delete(key);
    });
    return write;
  }
}

/**
 * A `+set` event's option and values. Sentinel publishes a rename in full (`rename-command PING <new>`),
 * but a new command name is a shared secret here (it is what lets a client run the command on the
 * servers, and events reach the event log, alerts, Slack and webhooks, not only Sentinel's own
 * subscribers): it is shown as `******`, as Sentinel shows an auth-pass. A rename undone (the command
 * under its own name again) names nothing secret and is shown as is.
 */
function setEventText(change: SetChange): string {
  if (change.option !== RENAME_COMMAND) return `${change.option} ${change.values.join(' ')}`;
  const [command = '', renamed = ''] = change.values;
  const undone = renamed.toLowerCase() === command.toLowerCase();
  return `${change.option} ${command} ${undone ? renamed : REDACTED}`;
}

/** A change for the log line: the option and its value, or for a rename only the command renamed. */
function loggedChange(change: SetChange): string {
  if (change.option !== RENAME_COMMAND) return `${change.option} ${change.values.join(' ')}`;
  return `${change.option} ${change.values[0] ?? ''}`;
}

/** An origin for a log line: `monitor 10.0.0.1:6379`, or `unknown` for a record older than origins. */
function describeOrigin(origin: MasterOrigin | null): string {
  return origin === null ? 'unknown' : `${origin.source} ${origin.host}:${origin.port}`;
}

function makeMonitorEvent(
  settings: MasterSettings,
  address: { host: string; port: number },
  now: number,
): SentinelEvent {
  return makeEvent(
    '+monitor',
    `master ${settings.name} ${address.host} ${address.port} quorum ${settings.quorum}`,
    settings.name,
    now,
  );
}
