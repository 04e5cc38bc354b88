/**
 * The loop's tick line: one structured log line about the whole loop (TILT, the store, each master not
 * OK), which the deployed alarms count, and a shorter copy of its text in the lease for operators. Logs
 * are billed by the byte, and a line per tick was most of a quiet month's bill: the line is logged when
 * what it says changes, at every tick in which a master's tick failed (each one counts for the alarms),
 * and otherwise once every TICK_LINE_PERIOD_MS.
 */
import type { MasterDecision, StoreView } from './decide.js';

/** Up to this many masters, the line shows every master's summary; beyond, only those not OK. */
export const SUMMARY_FULL_UP_TO = 3;
/** The line is cut at this length. */
export const SUMMARY_MAX_CHARS = 2_000;
/**
 * The line is logged at least this often (and whenever what it says changes): just under a minute.
 * The loop ticks at least once a second, so two lines are at most 56 s apart and every minute of the
 * deployed LoopTicks metric (the loop-stale alarms count healthy lines per minute) holds one.
 */
export const TICK_LINE_PERIOD_MS = 55_000;
/**
 * The copy of the line in the lease is cut shorter: with it the lease item stays under 1 KB, the unit
 * DynamoDB bills a write by, and every renewal rewrites the lease.
 */
export const LEASE_SUMMARY_MAX_CHARS = 600;

/** What the line reads of one master (the runner's per-master slot has these fields). */
export interface TickLineMaster {
  readonly settings: { readonly name: string };
  /** The master's last decision (null before its first tick). Its summary is read only when shown. */
  readonly lastDecision: MasterDecision | null;
  readonly view: StoreView | null;
}

/** Whether a master counts as OK on the line: judged ok, with the store's view of it in hand. */
export function masterIsOk(master: TickLineMaster): boolean {
  return master.lastDecision?.status === 'ok' && master.view?.status === 'ok';
}

/**
 * What the line says, without its free text: TILT, the store, whether a master's tick failed, and each
 * master not OK with its status, epoch and leader. A change of it is logged at once.
 */
export function tickLineState(input: {
  readonly tilt: boolean;
  readonly storeDown: boolean;
  readonly failed: boolean;
  readonly masters: readonly TickLineMaster[];
}): string {
  let state = `${input.tilt}|${input.storeDown}|${input.failed}`;
  for (const s of input.masters) {
    if (masterIsOk(s)) continue;
    const record = s.view?.status === 'ok' ? s.view.record : null;
    state += `|${s.settings.name}:${s.lastDecision?.status ?? 'unknown'}:${record?.currentEpoch ?? ''}:${record?.leader ?? ''}`;
  }
  return state;
}

/** When the line was last logged: the state it said, and when it is due again regardless. */
export interface TickLineClock {
  readonly lastState: string | null;
  readonly nextLineAt: number;
}

export const NO_TICK_LINE_YET: TickLineClock = { lastState: null, nextLineAt: Number.NEGATIVE_INFINITY };

/**
 * Whether the tick at `now` logs the line (its state `state`, `failedMasters` masters whose tick threw),
 * and the clock after it: logged when the state changed, when a master's tick failed, or when the
 * period is up.
 */
export function tickLineStep(
  clock: TickLineClock,
  state: string,
  failedMasters: number,
  now: number,
): { readonly log: boolean; readonly clock: TickLineClock } {
  if (state !== clock.lastState || failedMasters > 0 || now >= clock.nextLineAt)
    return { log: true, clock: { lastState: state, nextLineAt: now + TICK_LINE_PERIOD_MS } };
  return { log: false, clock };
}

/**
 * The line's human text, and the masters not OK. With a few masters, each one's summary; with many, a
 * count of the healthy ones and the full summary of the others, so a line (and the lease's copy) stays
 * small.
 */
export function tickSummary<M extends TickLineMaster>(
  sentinelId: string,
  tilt: boolean,
  masters: readonly M[],
): { readonly line: string; readonly notOk: M[] } {
  const notOk = masters.filter((s) => !masterIsOk(s));
  const shown = masters.length <= SUMMARY_FULL_UP_TO ? masters : notOk;
  const parts = shown.map((s) => s.lastDecision?.summary ?? `${s.settings.name} not judged yet`);
  if (shown !== masters) parts.unshift(`${masters.length - notOk.length} masters ok`);
  const line = `${sentinelId}${tilt ? ' [TILT]' : ''}: ${parts.join('; ')}`;
  return { line: cut(line, SUMMARY_MAX_CHARS), notOk };
}

/** The fields the line gives each master not OK. */
export function notOkFields(master: TickLineMaster): {
  name: string;
  status: string;
  epoch: number | null;
  leader: string | null;
} {
  return {
    name: master.settings.name,
    status: master.lastDecision?.status ?? 'unknown',
    epoch: master.view?.status === 'ok' ? master.view.record.currentEpoch : null,
    leader: master.view?.status === 'ok' ? master.view.record.leader : null,
  };
}

/** The copy of the line (as last logged, or null) that a lease renewal stores. */
export function leaseSummary(line: string | null): string | null {
  return line === null ? null : cut(line, LEASE_SUMMARY_MAX_CHARS);
}

function cut(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}
