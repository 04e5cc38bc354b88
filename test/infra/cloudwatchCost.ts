/**
 * The fixed monthly CloudWatch cost of a rendered template: what the stack costs before it does anything
 * (log ingestion, which grows with use, is not in it). The template test holds the default deployment to
 * its budget; the benchmark's cost table prints the same figure.
 */
import { deployed, type Template } from './renderedTemplate.js';

/**
 * List prices in us-east-1, USD per month. No free tier is subtracted (an account's first 10 alarm
 * metrics, 10 custom metrics and 3 dashboards are free, but other stacks may use them).
 */
export const CLOUDWATCH_PRICES = {
  /** A standard-resolution alarm (period 60 s or more), per metric it reads: a metric-math alarm pays for each metric in its expressions. */
  alarmMetric: 0.1,
  /** The same for a high-resolution alarm (period 10 or 30 s). */
  highResolutionAlarmMetric: 0.3,
  compositeAlarm: 0.5,
  /** One metric name with one set of dimension values. Metric filters publish these; metrics of AWS services (AWS/Lambda, AWS/SQS…) are free. */
  customMetric: 0.3,
  dashboard: 3,
} as const;

/** The most the default deployment's fixed CloudWatch part may cost, USD per month. */
export const DEFAULT_DEPLOYMENT_BUDGET_USD = 1.5;

export interface AlarmCost {
  readonly id: string;
  /** The metrics the alarm reads (a metric-math alarm: its MetricStat entries; expressions are free). */
  readonly metrics: number;
  readonly highResolution: boolean;
}

export interface FixedCloudWatchCost {
  readonly alarms: readonly AlarmCost[];
  /** Metrics read by standard-resolution alarms. */
  readonly alarmMetrics: number;
  /** Metrics read by high-resolution alarms. */
  readonly highResolutionAlarmMetrics: number;
  readonly compositeAlarms: number;
  /**
   * The custom metrics the metric filters publish, one per namespace, name and set of dimension values,
   * e.g. `lambda-sentinel/ci LoopTicks`. A dimension whose value comes from the log event (`$.field`)
   * can publish one metric per value seen: it is counted once, written `Name{Key=$.field}`, and listed in
   * `openEnded` too.
   */
  readonly customMetrics: readonly string[];
  /** The custom metrics above whose count is only a lower bound. */
  readonly openEnded: readonly string[];
  readonly dashboards: number;
  /** USD per month; a lower bound when `openEnded` is not empty. */
  readonly monthlyUsd: number;
}

/** CloudWatch resources priced here; any other CloudWatch resource makes the count refuse to guess. */
const UNPRICED_TYPES = [
  'AWS::CloudWatch::AnomalyDetector',
  'AWS::CloudWatch::InsightRule',
  'AWS::CloudWatch::MetricStream',
  'AWS::Logs::SubscriptionFilter',
];

interface MetricDataQuery {
  readonly Id: string;
  readonly MetricStat?: { readonly Period?: number };
  readonly Expression?: string;
}

function alarmCost(id: string, properties: Record<string, unknown>): AlarmCost {
  if (properties.ThresholdMetricId !== undefined) {
    throw new Error(`${id}: anomaly-detection alarms are priced per band (3 metrics); not counted here`);
  }
  const queries = properties.Metrics as MetricDataQuery[] | undefined;
  if (queries === undefined) {
    return { id, metrics: 1, highResolution: (properties.Period as number) < 60 };
  }
  for (const q of queries) {
    if (q.Expression && /\bSELECT\b|ANOMALY_DETECTION_BAND|INSIGHT_RULE_METRIC|SEARCH\(/.test(q.Expression)) {
      throw new Error(`${id}: expression ${q.Id} is priced differently; not counted here`);
    }
  }
  const stats = queries.filter((q) => q.MetricStat !== undefined);
  return {
    id,
    metrics: stats.length,
    highResolution: stats.some((q) => (q.MetricStat?.Period ?? 60) < 60),
  };
}

interface MetricTransformation {
  readonly MetricNamespace: string;
  readonly MetricName: string;
  readonly Dimensions?: readonly { readonly Key: string; readonly Value: string }[];
}

/** The fixed monthly CloudWatch cost of what `template` deploys (conditions decided). */
export function fixedCloudWatchCost(template: Template): FixedCloudWatchCost {
  const resources = deployed(template);
  for (const [id, r] of resources) {
    if (UNPRICED_TYPES.includes(r.Type)) throw new Error(`${id}: ${r.Type} is not priced here`);
  }
  const alarms = resources
    .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
    .map(([id, r]) => alarmCost(id, r.Properties));
  const metrics = new Set<string>();
  const openEnded = new Set<string>();
  for (const [, filter] of resources.filter(([, r]) => r.Type === 'AWS::Logs::MetricFilter')) {
    for (const m of filter.Properties.MetricTransformations as MetricTransformation[]) {
      const dimensions = [...(m.Dimensions ?? [])].sort((x, y) => x.Key.localeCompare(y.Key));
      const name =
        `${m.MetricNamespace} ${m.MetricName}` +
        (dimensions.length ? `{${dimensions.map((d) => `${d.Key}=${d.Value}`).join(',')}}` : '');
      metrics.add(name);
      if (dimensions.some((d) => d.Value.startsWith('$.'))) openEnded.add(name);
    }
  }
  const sum = (xs: readonly AlarmCost[]) => xs.reduce((n, a) => n + a.metrics, 0);
  const alarmMetrics = sum(alarms.filter((a) => !a.highResolution));
  const highResolutionAlarmMetrics = sum(alarms.filter((a) => a.highResolution));
  const compositeAlarms = resources.filter(([, r]) => r.Type === 'AWS::CloudWatch::CompositeAlarm').length;
  const dashboards = resources.filter(([, r]) => r.Type === 'AWS::CloudWatch::Dashboard').length;
  const p = CLOUDWATCH_PRICES;
  const cents =
    alarmMetrics * p.alarmMetric * 100 +
    highResolutionAlarmMetrics * p.highResolutionAlarmMetric * 100 +
    compositeAlarms * p.compositeAlarm * 100 +
    metrics.size * p.customMetric * 100 +
    dashboards * p.dashboard * 100;
  return {
    alarms,
    alarmMetrics,
    highResolutionAlarmMetrics,
    compositeAlarms,
    customMetrics: [...metrics].sort(),
    openEnded: [...openEnded].sort(),
    dashboards,
    monthlyUsd: Math.round(cents) / 100,
  };
}

const usd = (x: number): string => `$${x.toFixed(2)}`;
const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/**
 * The cost as one line, e.g. `9 alarm metrics × $0.10 + 2 custom metrics × $0.30 = $1.50 a month`: what
 * docs/deploy.md states and the benchmark prints (the template test checks the doc against it). Items
 * that are none are left out; an open-ended count makes it `at least`.
 */
export function describeFixedCost(cost: FixedCloudWatchCost): string {
  const p = CLOUDWATCH_PRICES;
  const items = [
    [cost.alarmMetrics, plural(cost.alarmMetrics, 'alarm metric', 'alarm metrics'), p.alarmMetric],
    [
      cost.highResolutionAlarmMetrics,
      plural(
        cost.highResolutionAlarmMetrics,
        'high-resolution alarm metric',
        'high-resolution alarm metrics',
      ),
      p.highResolutionAlarmMetric,
    ],
    [
      cost.compositeAlarms,
      plural(cost.compositeAlarms, 'composite alarm', 'composite alarms'),
      p.compositeAlarm,
    ],
    [
      cost.customMetrics.length,
      plural(cost.customMetrics.length, 'custom metric', 'custom metrics'),
      p.customMetric,
    ],
    [cost.dashboards, plural(cost.dashboards, 'dashboard', 'dashboards'), p.dashboard],
  ] as const;
  const terms = items.filter(([n]) => n > 0).map(([, label, price]) => `${label} × ${usd(price)}`);
  const bound = cost.openEnded.length > 0 ? 'at least ' : '';
  return `${terms.join(' + ') || 'nothing'} = ${bound}${usd(cost.monthlyUsd)} a month`;
}
