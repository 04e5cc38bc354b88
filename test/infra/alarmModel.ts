/**
 * What the deployed alarms would do with one minute of data: log lines go through the template's metric
 * filters into metrics, metrics through each alarm's statistic or metric-math expressions to a value, and
 * the value against its threshold (or TreatMissingData when there is none). Only the parts of the filter
 * pattern syntax and of metric math that the template uses are understood; anything else throws, so a
 * change to a pattern or an expression cannot pass unexamined.
 */
import { deployed, type Json, type Resource, refOf, type Template } from './renderedTemplate.js';

// ---------------------------------------------------------------------------------------------------------
// JSON metric filter patterns: `{ $.a > 0 && $.b = 0 }`, `{ $.c = "x" || $.c = "y*" }`.

type Predicate = (event: Json) => boolean;

const compiledPatterns = new Map<string, Predicate>();

/** Whether a JSON log event matches a CloudWatch Logs JSON filter pattern. */
export function matchesFilterPattern(pattern: string, event: Json): boolean {
  let predicate = compiledPatterns.get(pattern);
  if (!predicate) {
    predicate = compilePattern(pattern);
    compiledPatterns.set(pattern, predicate);
  }
  return predicate(event);
}

function compilePattern(pattern: string): Predicate {
  const body = /^\{(.*)\}$/s.exec(pattern.trim())?.[1];
  if (body === undefined) throw new Error(`not a JSON filter pattern: ${pattern}`);
  const hasAnd = body.includes('&&');
  const hasOr = body.includes('||');
  if (body.includes('(') || (hasAnd && hasOr)) throw new Error(`unsupported grouping in ${pattern}`);
  const terms = body.split(hasOr ? '||' : '&&').map((t) => compileTerm(t.trim(), pattern));
  return hasOr ? (e) => terms.some((t) => t(e)) : (e) => terms.every((t) => t(e));
}

function compileTerm(term: string, pattern: string): Predicate {
  const m = /^\$\.([A-Za-z_][\w.]*)\s*(>=|<=|=|>|<)\s*(.+)$/.exec(term);
  if (!m) throw new Error(`unsupported term "${term}" in ${pattern}`);
  const [, path = '', op, raw = ''] = m;
  const field = (e: Json): unknown =>
    path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), e);
  if (raw.startsWith('"')) {
    if (op !== '=' || !raw.endsWith('"')) throw new Error(`unsupported string term "${term}" in ${pattern}`);
    // `*` matches any run of characters; nothing else is special.
    const glob = raw.slice(1, -1);
    const re = new RegExp(`^${glob.split('*').map(escapeRegExp).join('.*')}$`);
    return (e) => {
      const v = field(e);
      return typeof v === 'string' && re.test(v);
    };
  }
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`unsupported value in "${term}" of ${pattern}`);
  const compare: Record<string, (v: number) => boolean> = {
    '=': (v) => v === n,
    '>': (v) => v > n,
    '<': (v) => v < n,
    '>=': (v) => v >= n,
    '<=': (v) => v <= n,
  };
  const test = compare[op as string] as (v: number) => boolean;
  return (e) => {
    const v = field(e);
    return typeof v === 'number' && test(v);
  };
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------------------------------------------------------------------------------------------------------
// Metrics: samples of one period, keyed by namespace, name and dimensions (values as in the template).

/** One sample value, `count` times (a minute's worth of identical log lines is one entry). */
export interface Samples {
  readonly value: number;
  readonly count: number;
}
export type MetricData = Map<string, Samples[]>;

export function metricKey(
  namespace: string,
  name: string,
  dimensions: Readonly<Record<string, unknown>>,
): string {
  const dims = Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b));
  return `${namespace} ${name} ${JSON.stringify(dims)}`;
}

export function addSamples(data: MetricData, key: string, samples: Samples): void {
  const list = data.get(key) ?? [];
  list.push(samples);
  data.set(key, list);
}

function statistic(samples: readonly Samples[] | undefined, stat: string): number | undefined {
  if (!samples?.length) return undefined;
  switch (stat) {
    case 'Sum':
      return samples.reduce((s, x) => s + x.value * x.count, 0);
    case 'Maximum':
      return Math.max(...samples.map((x) => x.value));
    case 'Minimum':
      return Math.min(...samples.map((x) => x.value));
    case 'SampleCount':
      return samples.reduce((s, x) => s + x.count, 0);
    default:
      throw new Error(`statistic ${stat} is not modelled`);
  }
}

/** Lines logged in one minute, by log group logical id (`times`: how many such lines). */
export type LogMinute = Readonly<Record<string, readonly { readonly line: Json; readonly times: number }[]>>;

/** What the template's metric filters publish for these lines. */
export function publishLogMetrics(
  template: Template,
  logs: LogMinute,
  into: MetricData = new Map(),
): MetricData {
  for (const [id, filter] of deployed(template).filter(([, r]) => r.Type === 'AWS::Logs::MetricFilter')) {
    const group = refOf(filter.Properties.LogGroupName);
    if (!group) throw new Error(`${id}: log group is not a reference`);
    for (const { line, times } of logs[group] ?? []) {
      if (!matchesFilterPattern(filter.Properties.FilterPattern as string, line)) continue;
      for (const t of filter.Properties.MetricTransformations as {
        MetricNamespace: string;
        MetricName: string;
        MetricValue: string;
        Dimensions?: { Key: string; Value: string }[];
      }[]) {
        if (t.Dimensions?.length) throw new Error(`${id}: dimensions are not modelled`);
        const value = Number(t.MetricValue);
        if (!Number.isFinite(value)) throw new Error(`${id}: MetricValue ${t.MetricValue} is not modelled`);
        addSamples(into, metricKey(t.MetricNamespace, t.MetricName, {}), { value, count: times });
      }
    }
  }
  return into;
}

// ---------------------------------------------------------------------------------------------------------
// Metric math: numbers, ids, + - * /, unary minus, parentheses, comparisons (1 or 0), FLOOR, CEIL, ABS.

type Token = { kind: 'num'; value: number } | { kind: 'id'; name: string } | { kind: 'op'; op: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_]\w*)|(<=|>=|==|!=|[-+*/()<>]))/y;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expression);
    if (!m) throw new Error(`cannot read "${expression.slice(at)}" in ${expression}`);
    at = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: 'num', value: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ kind: 'id', name: m[2] });
    else tokens.push({ kind: 'op', op: m[3] as string });
  }
  return tokens;
}

const FUNCTIONS: Record<string, (x: number) => number> = {
  FLOOR: Math.floor,
  CEIL: Math.ceil,
  ABS: Math.abs,
};

/** Evaluates a metric-math expression for one data point; `ids` are the values of the other queries. */
export function evaluateMetricMath(expression: string, ids: Readonly<Record<string, number>>): number {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const isOp = (op: string): boolean => {
    const t = peek();
    return t?.kind === 'op' && t.op === op;
  };
  const expect = (op: string): void => {
    if (!isOp(op)) throw new Error(`expected "${op}" in ${expression}`);
    i++;
  };
  const comparison = (): number => {
    let left = additive();
    for (;;) {
      const t = peek();
      if (t?.kind !== 'op' || !['<', '>', '<=', '>=', '==', '!='].includes(t.op)) return left;
      i++;
      const right = additive();
      const r: Record<string, boolean> = {
        '<': left < right,
        '>': left > right,
        '<=': left <= right,
        '>=': left >= right,
        '==': left === right,
        '!=': left !== right,
      };
      left = r[t.op] ? 1 : 0;
    }
  };
  const additive = (): number => {
    let left = multiplicative();
    for (;;) {
      if (isOp('+')) {
        i++;
        left += multiplicative();
      } else if (isOp('-')) {
        i++;
        left -= multiplicative();
      } else return left;
    }
  };
  const multiplicative = (): number => {
    let left = unary();
    for (;;) {
      if (isOp('*')) {
        i++;
        left *= unary();
      } else if (isOp('/')) {
        i++;
        left /= unary();
      } else return left;
    }
  };
  const unary = (): number => {
    if (isOp('-')) {
      i++;
      return -unary();
    }
    return primary();
  };
  const primary = (): number => {
    const t = peek();
    i++;
    if (t?.kind === 'num') return t.value;
    if (t?.kind === 'op' && t.op === '(') {
      const v = comparison();
      expect(')');
      return v;
    }
    if (t?.kind === 'id') {
      const fn = FUNCTIONS[t.name];
      if (fn) {
        expect('(');
        const v = comparison();
        expect(')');
        return fn(v);
      }
      const v = ids[t.name];
      if (v === undefined) throw new Error(`unknown id or function ${t.name} in ${expression}`);
      return v;
    }
    throw new Error(`unexpected token in ${expression}`);
  };
  const value = comparison();
  if (i !== tokens.length) throw new Error(`trailing input in ${expression}`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Alarms.

interface MetricDataQuery {
  readonly Id: string;
  readonly ReturnData?: boolean;
  readonly Expression?: string;
  readonly MetricStat?: {
    readonly Metric: {
      readonly Namespace: string;
      readonly MetricName: string;
      readonly Dimensions?: { Name: string; Value: unknown }[];
    };
    readonly Stat: string;
  };
}

const dimensionsOf = (dims: { Name: string; Value: unknown }[] | undefined): Record<string, unknown> =>
  Object.fromEntries((dims ?? []).map((d) => [d.Name, d.Value]));

/** The alarm's data point for this minute, or undefined when it has none (no metric it reads has data). */
export function alarmValue(alarm: Resource, data: MetricData): number | undefined {
  const p = alarm.Properties;
  const queries = p.Metrics as MetricDataQuery[] | undefined;
  if (!queries) {
    const key = metricKey(
      p.Namespace as string,
      p.MetricName as string,
      dimensionsOf(p.Dimensions as { Name: string; Value: unknown }[]),
    );
    return statistic(data.get(key), p.Statistic as string);
  }
  const values: Record<string, number> = {};
  let anyData = false;
  for (const q of queries.filter((x) => x.MetricStat)) {
    const m = q.MetricStat?.Metric as NonNullable<MetricDataQuery['MetricStat']>['Metric'];
    const v = statistic(
      data.get(metricKey(m.Namespace, m.MetricName, dimensionsOf(m.Dimensions))),
      q.MetricStat?.Stat as string,
    );
    // Metric math treats a missing value as 0 where another metric has one at that time.
    values[q.Id] = v ?? 0;
    anyData ||= v !== undefined;
  }
  if (!anyData) return undefined;
  // Expressions in order, each may use the ones before it.
  for (const q of queries.filter((x) => x.Expression !== undefined)) {
    values[q.Id] = evaluateMetricMath(q.Expression as string, values);
  }
  const returned = queries.filter((q) => q.ReturnData !== false);
  if (returned.length !== 1) throw new Error('an alarm returns exactly one query');
  return values[(returned[0] as MetricDataQuery).Id];
}

/** ALARM or OK after minutes of this same data (each failure mode is one minute that repeats). */
export function alarmState(alarm: Resource, data: MetricData): 'ALARM' | 'OK' {
  const p = alarm.Properties;
  const value = alarmValue(alarm, data);
  if (value === undefined) {
    const missing = (p.TreatMissingData as string | undefined) ?? 'missing';
    if (missing === 'breaching') return 'ALARM';
    if (missing === 'notBreaching') return 'OK';
    throw new Error(`TreatMissingData ${missing} is not modelled`);
  }
  const threshold = p.Threshold as number;
  switch (p.ComparisonOperator) {
    case 'GreaterThanThreshold':
      return value > threshold ? 'ALARM' : 'OK';
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold ? 'ALARM' : 'OK';
    case 'LessThanThreshold':
      return value < threshold ? 'ALARM' : 'OK';
    case 'LessThanOrEqualToThreshold':
      return value <= threshold ? 'ALARM' : 'OK';
    default:
      throw new Error(`ComparisonOperator ${String(p.ComparisonOperator)} is not modelled`);
  }
}
