import { describe, expect, it } from 'vitest';
import {
  INITIAL_MEMORY,
  type MasterDecision,
  type MasterStatus,
  type StoreView,
} from '../../../lib/core/decide.js';
import {
  LEASE_SUMMARY_MAX_CHARS,
  leaseSummary,
  masterIsOk,
  NO_TICK_LINE_YET,
  notOkFields,
  SUMMARY_MAX_CHARS,
  TICK_LINE_PERIOD_MS,
  type TickLineClock,
  type TickLineMaster,
  tickLineState,
  tickLineStep,
  tickSummary,
} from '../../../lib/core/tickLine.js';
import type { MasterRecord } from '../../../lib/core/types.js';

function decision(status: MasterStatus, summary = `summary ${status}`): MasterDecision {
  return {
    memory: INITIAL_MEMORY,
    events: [],
    actions: [],
    status,
    summary,
    wakeAt: null,
    wantsFastVoteReads: false,
  };
}

function okView(overrides: Partial<MasterRecord> = {}): StoreView {
  const record = { currentEpoch: 0, leader: null, ...overrides } as MasterRecord;
  return { status: 'ok', record, votes: [], readAt: 0 };
}

const unavailable: StoreView = { status: 'unavailable', reason: 'timeout' };

function master(
  name: string,
  status: MasterStatus | null,
  view: StoreView | null = okView(),
): TickLineMaster {
  return {
    settings: { name },
    lastDecision: status === null ? null : decision(status, `${name} ${status}`),
    view,
  };
}

describe('Function: masterIsOk', () => {
  it('is OK only when judged ok with the store’s view in hand', () => {
    expect(masterIsOk(master('m', 'ok'))).toBe(true);
    expect(masterIsOk(master('m', 'ok', unavailable))).toBe(false);
    expect(masterIsOk(master('m', 'ok', null))).toBe(false);
    expect(masterIsOk(master('m', 'sdown'))).toBe(false);
    expect(masterIsOk(master('m', null))).toBe(false);
  });
});

describe('Function: tickLineState', () => {
  const flags = { tilt: false, storeDown: false, failed: false };

  it('says only the flags while every master is OK', () => {
    expect(tickLineState({ ...flags, masters: [master('a', 'ok'), master('b', 'ok')] })).toBe(
      'false|false|false',
    );
    expect(tickLineState({ tilt: true, storeDown: true, failed: true, masters: [] })).toBe('true|true|true');
  });

  it('lists each master not OK with its status, epoch and leader', () => {
    const masters = [
      master('a', 'ok'),
      master('b', 'odown', okView({ currentEpoch: 3, leader: 'sentinel-b' })),
      master('c', null, null),
      master('d', 'ok', unavailable),
    ];
    expect(tickLineState({ ...flags, masters })).toBe(
      'false|false|false|b:odown:3:sentinel-b|c:unknown::|d:ok::',
    );
  });
});

describe('Function: tickLineStep', () => {
  it('logs the first line', () => {
    expect(tickLineStep(NO_TICK_LINE_YET, 'false|false|false', 0, 1_000)).toEqual({
      log: true,
      clock: { lastState: 'false|false|false', nextLineAt: 1_000 + TICK_LINE_PERIOD_MS },
    });
  });

  it('logs nothing while the state is the same and the period is not up', () => {
    const clock: TickLineClock = { lastState: 's', nextLineAt: 56_000 };
    expect(tickLineStep(clock, 's', 0, 55_999)).toEqual({ log: false, clock });
  });

  it('logs at once when the state changes, and whenever a master’s tick failed', () => {
    const clock: TickLineClock = { lastState: 's', nextLineAt: 56_000 };
    expect(tickLineStep(clock, 't', 0, 2_000)).toEqual({
      log: true,
      clock: { lastState: 't', nextLineAt: 57_000 },
    });
    expect(tickLineStep(clock, 's', 1, 2_000)).toEqual({
      log: true,
      clock: { lastState: 's', nextLineAt: 57_000 },
    });
  });

  it('logs when the period is up', () => {
    const clock: TickLineClock = { lastState: 's', nextLineAt: 56_000 };
    expect(tickLineStep(clock, 's', 0, 56_000).log).toBe(true);
  });

  it('on a virtual clock: a quiet loop ticking every second logs about once a minute, a change at once', () => {
    let clock = NO_TICK_LINE_YET;
    const loggedAt: number[] = [];
    for (let now = 0; now < 180_000; now += 1_000) {
      const state = now >= 100_500 && now < 103_000 ? 'false|false|false|m:sdown::' : 'false|false|false';
      const step = tickLineStep(clock, state, 0, now);
      clock = step.clock;
      if (step.log) loggedAt.push(now);
    }
    expect(loggedAt).toEqual([0, 55_000, 101_000, 103_000, 158_000]);
    // Every minute holds a line, as the loop-stale alarms require.
    for (let minute = 0; minute < 3; minute += 1)
      expect(loggedAt.some((at) => at >= minute * 60_000 && at < (minute + 1) * 60_000)).toBe(true);
  });
});

describe('Function: tickSummary', () => {
  it('shows every master’s summary with up to three masters', () => {
    const masters = [master('a', 'ok'), master('b', 'sdown'), master('c', 'ok')];
    const summary = tickSummary('sentinel-a', false, masters);
    expect(summary.line).toBe('sentinel-a: a ok; b sdown; c ok');
    expect(summary.notOk).toEqual([masters[1]]);
  });

  it('says a master not judged yet', () => {
    expect(tickSummary('sentinel-a', false, [master('a', null, null)]).line).toBe(
      'sentinel-a: a not judged yet',
    );
  });

  it('marks TILT', () => {
    expect(tickSummary('sentinel-a', true, [master('a', 'ok')]).line).toBe('sentinel-a [TILT]: a ok');
  });

  it('with more masters, counts the OK ones and never builds their summaries', () => {
    const lazyOk = (name: string): TickLineMaster => ({
      settings: { name },
      lastDecision: {
        ...decision('ok'),
        get summary(): string {
          throw new Error(`summary of ${name} built`);
        },
      },
      view: okView(),
    });
    const masters = [
      lazyOk('a'),
      lazyOk('b'),
      master('c', 'odown'),
      lazyOk('d'),
      master('e', 'ok', unavailable),
    ];
    const summary = tickSummary('sentinel-a', false, masters);
    expect(summary.line).toBe('sentinel-a: 3 masters ok; c odown; e ok');
    expect(summary.notOk.map((m) => m.settings.name)).toEqual(['c', 'e']);
  });

  it('cuts a long line with an ellipsis', () => {
    const long = master('a', 'sdown');
    const masters = [{ ...long, lastDecision: decision('sdown', 'x'.repeat(3 * SUMMARY_MAX_CHARS)) }];
    const { line } = tickSummary('sentinel-a', false, masters);
    expect(line).toHaveLength(SUMMARY_MAX_CHARS);
    expect(line.endsWith('x…')).toBe(true);
  });
});

describe('Function: notOkFields', () => {
  it('gives a master’s status, epoch and leader, null where the store’s view is missing', () => {
    expect(notOkFields(master('b', 'odown', okView({ currentEpoch: 3, leader: 'sentinel-b' })))).toEqual({
      name: 'b',
      status: 'odown',
      epoch: 3,
      leader: 'sentinel-b',
    });
    expect(notOkFields(master('c', null, unavailable))).toEqual({
      name: 'c',
      status: 'unknown',
      epoch: null,
      leader: null,
    });
  });
});

describe('Function: leaseSummary', () => {
  it('stores nothing before the first line', () => {
    expect(leaseSummary(null)).toBeNull();
  });

  it('stores a short line as it is, and cuts a longer one with an ellipsis', () => {
    const fits = 'y'.repeat(LEASE_SUMMARY_MAX_CHARS);
    expect(leaseSummary(fits)).toBe(fits);
    const cut = leaseSummary(`${fits}z`);
    expect(cut).toHaveLength(LEASE_SUMMARY_MAX_CHARS);
    expect(cut).toBe(`${'y'.repeat(LEASE_SUMMARY_MAX_CHARS - 1)}…`);
  });
});
