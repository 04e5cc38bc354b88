/**
 * The CloudFormation template that `npm run package` (build + osls `sls package --stage ci`) produces,
 * with no AWS credentials and no parameters: the example values in serverless.yml are enough. A second
 * one is packaged with every optional parameter on (`--param`, as a deploy would pass them), so each
 * option is checked both ways.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDOVER_MARGIN_MS, HANDOVER_WINDOW_MS, SCHEDULE_PERIOD_MS } from '../../functions/sentinel.js';
import { EVENT_KEY } from '../../lib/adapters/dynamodb/eventLog.js';
import { ATTR } from '../../lib/adapters/dynamodb/schema.js';
import { parseSentinelConfig } from '../../lib/config/parse.js';
import { SENTINEL_DEFAULTS } from '../../lib/core/constants.js';
import { FAULT } from '../../lib/runtime/log.js';
import { ROOT } from '../../scripts/build.js';
import {
  addSamples,
  alarmState,
  type LogMinute,
  type MetricData,
  metricKey,
  publishLogMetrics,
  type Samples,
} from './alarmModel.js';
import {
  CLOUDWATCH_PRICES,
  DEFAULT_DEPLOYMENT_BUDGET_USD,
  describeFixedCost,
  fixedCloudWatchCost,
} from './cloudwatchCost.js';
import {
  ALLOWED_ACTIONS_BY_FUNCTION,
  ALLOWED_ACTIONS_BY_HANDLER,
  API_READ_DYNAMODB_OPERATIONS,
  API_WRITE_DYNAMODB_OPERATIONS,
  API_WRITE_PARTITION_PREFIX,
  NOTIFY_DYNAMODB_OPERATIONS,
  NOTIFY_PARTITION_PREFIXES,
  OPTIONAL_ACTIONS_BY_HANDLER,
  SENTINEL_IDS,
  VPC_ENI_ACTIONS,
} from './expectations.js';
import {
  conditionIsTrue,
  deployed,
  type Json,
  type Resource,
  refOf,
  renderTemplate,
  resolved,
  SERVERLESS_DIR,
  type Template,
} from './renderedTemplate.js';
import { zipEntryNames } from './zip.js';

interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const EXAMPLE_CONFIG = 'config/sentinel.example.conf';

/**
 * Every optional deploy parameter turned on, and the ones that are on by default turned off
 * (reservedConcurrency). opsAlarmEmail is left to its default, alertEmail.
 */
const OPTIONS = {
  alertEmail: 'oncall@example.com',
  reservedConcurrency: 'false',
  apiReadCallerPrincipal: '109876543210',
  authPassParameterPath: '/lambda-sentinel/ci/auth-pass',
  createSsmEndpoint: 'true',
  route53HostedZoneId: 'Z0123456789EXAMPLE',
  route53RecordName: '{master}.redis.internal',
  route53RecordTtl: '10',
  eventBusName: 'lambda-sentinel-ops',
  apiCallerPrincipal: '210987654321',
  publicApiUrl: 'true',
  createDashboard: 'true',
} as const;

/** The default deployment (example values only). */
let template: Template;
/** The same with OPTIONS. */
let withOptions: Template;
let optionsDir: string | undefined;

/** When the packaging below started: the bundles it ships must be built after that. */
let packagingStartedAt = 0;

beforeAll(async () => {
  packagingStartedAt = Date.now();
  // The variant first: every `sls package` starts by deleting .serverless, whose zips the tests read.
  optionsDir = mkdtempSync(join(tmpdir(), 'ls-package-options-'));
  withOptions = await renderTemplate({ params: OPTIONS, packageDir: optionsDir });
  template = await renderTemplate();
}, 180_000);

afterAll(() => {
  if (optionsDir) rmSync(optionsDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------

const resourcesOfType = (type: string, t: Template = template): [string, Resource][] =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type);

const resource = (logicalId: string, t: Template = template): Resource => {
  const r = t.Resources[logicalId];
  if (!r) throw new Error(`no resource ${logicalId} in the template`);
  return r;
};

const asArray = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

function sentinelFunctions(t: Template = template): [string, Resource][] {
  return resourcesOfType('AWS::Lambda::Function', t).filter(
    ([, r]) => r.Properties.Handler === 'dist/sentinel.handler',
  );
}

function envOf(fn: Resource): Record<string, unknown> {
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

/** A role's inline statements as deployed (conditional ones decided). */
function policyStatements(role: Resource, t: Template = template): Statement[] {
  const policies = resolved(t, role.Properties.Policies ?? []) as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

function allowedActions(role: Resource, t: Template = template): string[] {
  return policyStatements(role, t)
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => asArray(s.Action))
    .sort();
}

/** The one statement of a role with this Sid. */
function statement(role: Resource, sid: string, t: Template): Statement | undefined {
  const found = policyStatements(role, t).filter((s) => s.Sid === sid);
  expect(found.length, `statements ${sid}`).toBeLessThanOrEqual(1);
  return found[0];
}

// ---------------------------------------------------------------------------------------------------------

describe('packaging', () => {
  it('builds the bundles itself: `npx sls package` needs no `npm run build` first', () => {
    // Written by the build that reading serverless.yml ran, not left over from an earlier one.
    const manifest = statSync(join(ROOT, 'dist', 'manifest.json'));
    expect(manifest.mtimeMs).toBeGreaterThanOrEqual(packagingStartedAt);
    const zipped = zipEntryNames(readFileSync(join(SERVERLESS_DIR, 'sentinelA.zip')));
    expect(zipped).toContain('dist/sentinel.mjs');
  });
});

describe('the sentinel functions', () => {
  it('are exactly three, one per sentinel id, each in its own single subnet', () => {
    const fns = sentinelFunctions();
    expect(fns).toHaveLength(3);
    const ids = fns.map(([, fn]) => envOf(fn).SENTINEL_ID);
    expect([...ids].sort()).toEqual([...SENTINEL_IDS]);
    const subnets = fns.map(([, fn]) => (fn.Properties.VpcConfig as { SubnetIds: string[] }).SubnetIds);
    for (const list of subnets) expect(list).toHaveLength(1);
    expect(new Set(subnets.flat()).size).toBe(3);
    for (const [, fn] of fns) {
      const vpc = fn.Properties.VpcConfig as { SecurityGroupIds: string[] };
      expect(vpc.SecurityGroupIds).toHaveLength(1);
    }
  });

  it('run the bundled handler on nodejs24.x, arm64, 128 MB, 900 s (the Lambda maximum)', () => {
    for (const [, fn] of sentinelFunctions()) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 128,
        Timeout: 900,
      });
      expect(envOf(fn)).toMatchObject({
        TABLE_NAME: { Ref: 'StateTable' },
        SENTINEL_CONFIG_FILE: `/var/task/${EXAMPLE_CONFIG}`,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
    }
  });

  it('every function runs on nodejs24.x and arm64', () => {
    const fns = resourcesOfType('AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThanOrEqual(3);
    for (const [, fn] of fns) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });

  it('drop late or failed asynchronous deliveries (maximum event age 60 s, no retries) into the dead-letter queue', () => {
    const configs = resourcesOfType('AWS::Lambda::EventInvokeConfig');
    for (const [id] of sentinelFunctions()) {
      const config = configs.find(([, c]) => refOf(c.Properties.FunctionName) === id);
      expect(config, `EventInvokeConfig of ${id}`).toBeDefined();
      expect(config?.[1].Properties).toMatchObject({
        MaximumEventAgeInSeconds: 60,
        MaximumRetryAttempts: 0,
        Qualifier: '$LATEST',
        // A failed invocation's record (with its error) is what the dead-letters alarm sees.
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['NotifyDeadLetterQueue', 'Arn'] } } },
      });
    }
  });

  it('ship only their bundle, its source map and the sentinel.conf, which parses', () => {
    for (const [id] of sentinelFunctions()) {
      const zip = `${id.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase())}.zip`;
      const names = zipEntryNames(readFileSync(join(SERVERLESS_DIR, zip))).sort();
      expect(names).toEqual([EXAMPLE_CONFIG, 'dist/sentinel.mjs', 'dist/sentinel.mjs.map']);
    }
    const config = parseSentinelConfig(readFileSync(join(ROOT, EXAMPLE_CONFIG), 'utf8'), EXAMPLE_CONFIG);
    expect([...config.global.sentinelIds].sort()).toEqual([...SENTINEL_IDS]);
    expect(config.masters.length).toBeGreaterThan(0);
  });
});

describe('the schedules', () => {
  it('start each sentinel every minute, with no retry and a 60 s maximum event age', () => {
    const schedules = resourcesOfType('AWS::Scheduler::Schedule');
    const fnIds = sentinelFunctions().map(([id]) => id);
    expect(schedules).toHaveLength(3);
    const targets = schedules.map(([, s]) => {
      const target = s.Properties.Target as Json;
      expect(s.Properties.ScheduleExpression).toBe('rate(1 minute)');
      expect(s.Properties.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
      expect(s.Properties.State).toBe('ENABLED');
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
      // The handler reads the scheduled time from `time` to drop stale deliveries.
      expect(JSON.parse(target.Input as string)).toMatchObject({ time: '<aws.scheduler.scheduled-time>' });
      return refOf(target.Arn);
    });
    expect([...targets].sort()).toEqual([...fnIds].sort());
  });

  it('invoke through their own role, allowed to invoke exactly that function', () => {
    for (const [, schedule] of resourcesOfType('AWS::Scheduler::Schedule')) {
      const target = schedule.Properties.Target as Json;
      const roleId = refOf(target.RoleArn) as string;
      const role = resource(roleId);
      const trust = (role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
      expect(trust).toHaveLength(1);
      expect(trust[0]?.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
      const statements = policyStatements(role);
      expect(statements).toHaveLength(1);
      expect(statements[0]?.Action).toBe('lambda:InvokeFunction');
      expect(statements[0]?.Resource).toEqual(target.Arn);
    }
  });
});

describe('the state table', () => {
  it('is on-demand, keyed pk/sk, with TTL on `ttl`, a NEW_AND_OLD_IMAGES stream and point-in-time recovery', () => {
    const table = resource('StateTable');
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: ATTR.pk, KeyType: 'HASH' },
        { AttributeName: ATTR.sk, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: ATTR.ttl, Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: 'true',
    });
  });
});

const VARIANTS = [
  ['the default deployment', () => template],
  ['every option on', () => withOptions],
] as const;

describe('IAM', () => {
  const allStatements = (t: Template): [string, Statement][] =>
    [
      ...resourcesOfType('AWS::IAM::Role', t),
      ...resourcesOfType('AWS::IAM::Policy', t),
      ...resourcesOfType('AWS::IAM::ManagedPolicy', t),
    ].flatMap(([id, r]) => {
      const inline = policyStatements(r, t);
      const direct =
        (resolved(t, r.Properties.PolicyDocument) as { Statement?: Statement[] } | undefined)?.Statement ??
        [];
      return [...inline, ...direct].map((s): [string, Statement] => [id, s]);
    });

  it.each(VARIANTS)(
    '%s has no statement allowing every action, or a whole service, on every resource',
    (_, t) => {
      const statements = allStatements(t());
      expect(statements.length).toBeGreaterThan(0);
      for (const [id, s] of statements) {
        if (s.Effect !== 'Allow') continue;
        const actions = asArray(s.Action);
        const resources = asArray(s.Resource as unknown);
        const everyResource = resources.includes('*');
        expect(actions.includes('*') && everyResource, `${id}: Action * on Resource *`).toBe(false);
        for (const action of actions) {
          expect(action === '*' || action.endsWith(':*'), `${id}: wildcard action ${action}`).toBe(false);
        }
        // The only statement on every resource is the VPC network-interface one.
        if (everyResource) expect([...actions].sort(), id).toEqual([...VPC_ENI_ACTIONS].sort());
      }
    },
  );

  it('attaches no managed policies and has no shared default role', () => {
    for (const [id, role] of resourcesOfType('AWS::IAM::Role')) {
      expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it.each(VARIANTS)(
    '%s gives each function its own role, allowing exactly the actions listed for its handler',
    (variant, t) => {
      const options = variant === 'every option on';
      const roles = new Set<string>();
      for (const [id, fn] of resourcesOfType('AWS::Lambda::Function', t())) {
        const handler = fn.Properties.Handler as string;
        const expected = ALLOWED_ACTIONS_BY_FUNCTION[id] ?? ALLOWED_ACTIONS_BY_HANDLER[handler];
        expect(expected, `${id}: add the actions of ${handler} to test/infra/expectations.ts`).toBeDefined();
        const optional = options ? (OPTIONAL_ACTIONS_BY_HANDLER[handler] ?? []) : [];
        const roleId = refOf(fn.Properties.Role) as string;
        expect(roles.has(roleId), `${id} shares role ${roleId}`).toBe(false);
        roles.add(roleId);
        expect(allowedActions(resource(roleId, t()), t()), id).toEqual(
          [...(expected ?? []), ...optional].sort(),
        );
      }
    },
  );

  it("scopes a sentinel's DynamoDB access to the state table, its logs to its own log group, its dead letters to the queue", () => {
    for (const [id, fn] of sentinelFunctions()) {
      const role = resource(refOf(fn.Properties.Role) as string);
      const logGroup = id.replace(/LambdaFunction$/, 'LogGroup');
      for (const s of policyStatements(role)) {
        const actions = asArray(s.Action);
        if (actions.every((a) => a.startsWith('dynamodb:'))) {
          expect(s.Resource).toEqual({ 'Fn::GetAtt': ['StateTable', 'Arn'] });
        } else if (actions.every((a) => a.startsWith('logs:'))) {
          expect(s.Resource).toEqual({ 'Fn::GetAtt': [logGroup, 'Arn'] });
        } else if (actions.every((a) => a.startsWith('sqs:'))) {
          expect(s.Resource).toEqual({ 'Fn::GetAtt': ['NotifyDeadLetterQueue', 'Arn'] });
        } else {
          expect(s.Resource).toBe('*');
        }
      }
      expect(resource(logGroup).Properties.RetentionInDays).toBe(30);
    }
  });
});

describe('the notify role', () => {
  it.each(VARIANTS)(
    '%s: reads and writes only its marker partitions in the table, with only the operations the markers send',
    (_, t) => {
      const role = resource(refOf(resource('NotifyLambdaFunction', t()).Properties.Role) as string, t());
      const table = { 'Fn::GetAtt': ['StateTable', 'Arn'] };
      const onTable = policyStatements(role, t()).filter(
        (st) => JSON.stringify(st.Resource) === JSON.stringify(table),
      );
      expect(onTable).toEqual([
        {
          Sid: 'Markers',
          Effect: 'Allow',
          Action: NOTIFY_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`),
          Resource: table,
          Condition: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': NOTIFY_PARTITION_PREFIXES.map((p) => `${p}*`),
            },
          },
        },
      ]);
    },
  );

  it('the partitions are the ones the markers use', () => {
    expect([EVENT_KEY.notifiedPkPrefix, EVENT_KEY.alertPkPrefix].sort()).toEqual(
      [...NOTIFY_PARTITION_PREFIXES].sort(),
    );
  });
});

describe('reserved concurrency', () => {
  const reservedOf = (t: Template, id: string): unknown =>
    (resolved(t, resource(id, t).Properties) as Json).ReservedConcurrentExecutions;
  /** The sentinels' schedule period in seconds (`rate(1 minute)`). */
  const schedulePeriodSeconds = (): number => {
    const periods = resourcesOfType('AWS::Scheduler::Schedule').map(([, s]) => {
      const m = /^rate\((\d+) minutes?\)$/.exec(s.Properties.ScheduleExpression as string);
      if (!m) throw new Error(`unexpected schedule ${String(s.Properties.ScheduleExpression)}`);
      return Number(m[1]) * 60;
    });
    expect(new Set(periods).size).toBe(1);
    return periods[0] as number;
  };

  it('each sentinel reserves every invocation of it that can be alive at once: more than the two of a hand-over', () => {
    expect(conditionIsTrue(template, 'HasReservedConcurrency')).toBe(true);
    const period = schedulePeriodSeconds();
    expect(period * 1_000).toBe(SCHEDULE_PERIOD_MS);
    // The holder, plus the scheduled invocations waiting for its hand-over: one starts every period and
    // waits at most the lease's time-to-live and a heartbeat (a stuck holder).
    const longestWaitS = (SENTINEL_DEFAULTS.loopLeaseMs + SENTINEL_DEFAULTS.heartbeatPeriodMs) / 1_000;
    const alive = 1 + Math.ceil(longestWaitS / period);
    expect(alive).toBeGreaterThan(2);
    for (const [id, fn] of sentinelFunctions()) {
      expect(reservedOf(template, id), id).toBe(alive);
      // The holder runs as long as Lambda allows: one start-up and one hand-over per 15 minutes.
      expect(fn.Properties.Timeout, id).toBe(900);
      // Its hand-over window fits in its run, after the first invocations that find it running.
      expect(HANDOVER_WINDOW_MS + HANDOVER_MARGIN_MS).toBeLessThan(
        (fn.Properties.Timeout as number) * 1_000 - period * 1_000,
      );
    }
  });

  it('caps the API functions (the public URL lower), so API requests cannot take the capacity the sentinels need', () => {
    expect(reservedOf(template, 'ApiLambdaFunction')).toBe(10);
    expect(reservedOf(template, 'ApiReadLambdaFunction')).toBe(10);
    // The public URL exists only in the variant where reservations are off: its cap is the true branch.
    expect(resource('ApiPublicLambdaFunction', withOptions).Properties.ReservedConcurrentExecutions).toEqual({
      'Fn::If': ['HasReservedConcurrency', 5, { Ref: 'AWS::NoValue' }],
    });
    const total = deployed(template)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .reduce((sum, [id]) => sum + ((reservedOf(template, id) as number | undefined) ?? 0), 0);
    // A standard account (quota 1,000) keeps at least 100 unreserved.
    expect(total).toBeLessThanOrEqual(900);
  });

  it.each(VARIANTS)(
    '%s: every reservation is under the HasReservedConcurrency condition, so reservedConcurrency=false removes them all',
    (_, t) => {
      for (const [id, fn] of resourcesOfType('AWS::Lambda::Function', t())) {
        const raw = fn.Properties.ReservedConcurrentExecutions as { 'Fn::If'?: unknown[] } | undefined;
        if (raw === undefined) continue;
        expect(raw['Fn::If']?.[0], id).toBe('HasReservedConcurrency');
        expect(raw['Fn::If']?.[2], id).toEqual({ Ref: 'AWS::NoValue' });
      }
    },
  );

  it('with reservedConcurrency=false no function reserves anything (accounts with a total quota of 10)', () => {
    expect(conditionIsTrue(withOptions, 'HasReservedConcurrency')).toBe(false);
    const fns = resourcesOfType('AWS::Lambda::Function', withOptions);
    expect(fns.length).toBeGreaterThan(5);
    for (const [id] of fns) expect(reservedOf(withOptions, id), id).toBeUndefined();
  });
});

describe('Redis passwords from SSM', () => {
  const readers = (t: Template): [string, Resource][] =>
    resourcesOfType('AWS::Lambda::Function', t).filter(([, fn]) =>
      ['dist/sentinel.handler', 'dist/failover.handler'].includes(fn.Properties.Handler as string),
    );
  const sub = (text: string) => ({ 'Fn::Sub': text });

  it('by default: no path, no SSM or KMS permission, no SSM endpoint', () => {
    expect(conditionIsTrue(template, 'HasAuthPasswords')).toBe(false);
    expect(conditionIsTrue(template, 'CreateSsmEndpoint')).toBe(false);
    for (const [id, fn] of readers(template)) {
      expect(envOf(fn).AUTH_PASS_PARAMETER_PATH, id).toBe('');
      const actions = allowedActions(resource(refOf(fn.Properties.Role) as string));
      expect(
        actions.filter((a) => a.startsWith('ssm:') || a.startsWith('kms:')),
        id,
      ).toEqual([]);
    }
    const created = deployed(template).map(([id]) => id);
    expect(created).not.toContain('SsmInterfaceEndpoint');
    expect(created).not.toContain('SsmEndpointEgress');
  });

  it('with a path: the sentinels and the failover function may read that path only, decrypted only through SSM', () => {
    const parameterArn = `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${OPTIONS.authPassParameterPath}`;
    const fns = readers(withOptions);
    expect(fns).toHaveLength(4);
    for (const [id, fn] of fns) {
      expect(envOf(fn).AUTH_PASS_PARAMETER_PATH, id).toBe(OPTIONS.authPassParameterPath);
      const role = resource(refOf(fn.Properties.Role) as string, withOptions);
      // GetParametersByPath is authorised against the requested path: exactly that one.
      expect(statement(role, 'RedisPasswords', withOptions), id).toEqual({
        Sid: 'RedisPasswords',
        Effect: 'Allow',
        Action: 'ssm:GetParametersByPath',
        Resource: sub(parameterArn),
      });
      expect(statement(role, 'RedisPasswordsDecrypt', withOptions), id).toEqual({
        Sid: 'RedisPasswordsDecrypt',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: sub(`arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/*`),
        Condition: {
          StringEquals: { 'kms:ViaService': sub(`ssm.\${AWS::Region}.amazonaws.com`) },
          StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': sub(`${parameterArn}/*`) },
        },
      });
    }
  });

  it('the other functions get neither the path nor the permissions', () => {
    for (const [id, fn] of resourcesOfType('AWS::Lambda::Function', withOptions)) {
      if (readers(withOptions).some(([r]) => r === id)) continue;
      expect(envOf(fn).AUTH_PASS_PARAMETER_PATH, id).toBeUndefined();
      const actions = allowedActions(resource(refOf(fn.Properties.Role) as string, withOptions), withOptions);
      expect(actions, id).not.toContain('ssm:GetParametersByPath');
      expect(actions, id).not.toContain('kms:Decrypt');
    }
  });

  it('no password anywhere in the template: no other variable named like one, no auth-pass in the shipped file', () => {
    for (const t of [template, withOptions]) {
      for (const [id, fn] of resourcesOfType('AWS::Lambda::Function', t)) {
        const names = Object.keys(envOf(fn)).filter((k) => /PASS|SECRET|TOKEN/i.test(k));
        expect(
          names.filter((k) => k !== 'AUTH_PASS_PARAMETER_PATH'),
          id,
        ).toEqual([]);
      }
    }
    expect(readFileSync(join(ROOT, EXAMPLE_CONFIG), 'utf8')).not.toMatch(/^\s*sentinel\s+auth-pass/im);
  });

  it('createSsmEndpoint adds an SSM interface endpoint in the three sentinel subnets, reachable from the functions only', () => {
    const created = deployed(withOptions).map(([id]) => id);
    expect(created).toEqual(
      expect.arrayContaining(['SsmInterfaceEndpoint', 'SsmEndpointSecurityGroup', 'SsmEndpointEgress']),
    );
    const endpoint = resource('SsmInterfaceEndpoint', withOptions).Properties;
    expect(endpoint).toMatchObject({
      VpcEndpointType: 'Interface',
      ServiceName: sub(`com.amazonaws.\${AWS::Region}.ssm`),
      PrivateDnsEnabled: true,
      SecurityGroupIds: [{ Ref: 'SsmEndpointSecurityGroup' }],
    });
    const sentinelSubnets = sentinelFunctions(withOptions).flatMap(
      ([, fn]) => (fn.Properties.VpcConfig as { SubnetIds: string[] }).SubnetIds,
    );
    expect([...(endpoint.SubnetIds as string[])].sort()).toEqual([...sentinelSubnets].sort());
    const [first] = sentinelFunctions(withOptions);
    if (!first) throw new Error('no sentinel function');
    const functionsGroup = (first[1].Properties.VpcConfig as { SecurityGroupIds: string[] })
      .SecurityGroupIds[0];
    expect(resource('SsmEndpointSecurityGroup', withOptions).Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        SourceSecurityGroupId: functionsGroup,
      }),
    ]);
    expect(resource('SsmEndpointEgress', withOptions).Properties).toMatchObject({
      GroupId: functionsGroup,
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      DestinationSecurityGroupId: { Ref: 'SsmEndpointSecurityGroup' },
    });
  });
});

describe('Route 53 and EventBridge on +switch-master', () => {
  const notifyRole = (t: Template) =>
    resource(refOf(resource('NotifyLambdaFunction', t).Properties.Role) as string, t);

  it('are off by default: empty settings, no permission', () => {
    expect(envOf(resource('NotifyLambdaFunction'))).toMatchObject({
      ROUTE53_ZONE_ID: '',
      ROUTE53_RECORD_NAME: '',
      EVENT_BUS_NAME: '',
    });
    expect(statement(notifyRole(template), 'PrimaryRecord', template)).toBeUndefined();
    expect(statement(notifyRole(template), 'SwitchMasterEvents', template)).toBeUndefined();
  });

  it('with a zone and a record name: UPSERT of A, AAAA or CNAME records in that zone only', () => {
    expect(envOf(resource('NotifyLambdaFunction', withOptions))).toMatchObject({
      ROUTE53_ZONE_ID: OPTIONS.route53HostedZoneId,
      ROUTE53_RECORD_NAME: OPTIONS.route53RecordName,
      ROUTE53_TTL_SECONDS: OPTIONS.route53RecordTtl,
    });
    expect(statement(notifyRole(withOptions), 'PrimaryRecord', withOptions)).toEqual({
      Sid: 'PrimaryRecord',
      Effect: 'Allow',
      Action: 'route53:ChangeResourceRecordSets',
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:route53:::hostedzone/${OPTIONS.route53HostedZoneId}` },
      Condition: {
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
          'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA', 'CNAME'],
        },
      },
    });
  });

  it('with a bus: PutEvents on that bus only', () => {
    expect(envOf(resource('NotifyLambdaFunction', withOptions)).EVENT_BUS_NAME).toBe(OPTIONS.eventBusName);
    expect(statement(notifyRole(withOptions), 'SwitchMasterEvents', withOptions)).toEqual({
      Sid: 'SwitchMasterEvents',
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${OPTIONS.eventBusName}`,
      },
    });
  });
});

describe('the HTTP API', () => {
  const fnArn = { 'Fn::GetAtt': ['ApiLambdaFunction', 'Arn'] };
  const permissionsOf = (t: Template, fn: string): Resource[] =>
    deployed(t)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Permission' && refOf(r.Properties.FunctionName) === fn)
      .map(([, r]) => r);

  it('runs the api bundle outside the VPC, with the sentinel.conf, long enough for a 20 s long poll', () => {
    const fn = resource('ApiLambdaFunction');
    expect(fn.Condition).toBeUndefined();
    expect(fn.Properties).toMatchObject({ Handler: 'dist/api.handler', Timeout: 30, MemorySize: 256 });
    expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(envOf(fn)).toMatchObject({
      TABLE_NAME: { Ref: 'StateTable' },
      SENTINEL_CONFIG_FILE: `/var/task/${EXAMPLE_CONFIG}`,
    });
    const names = zipEntryNames(readFileSync(join(SERVERLESS_DIR, 'api.zip'))).sort();
    expect(names).toEqual([EXAMPLE_CONFIG, 'dist/api.mjs', 'dist/api.mjs.map']);
  });

  it('is behind a function URL with AWS_IAM auth, whose address is a stack output', () => {
    expect(resource('ApiLambdaFunctionUrl')).toMatchObject({
      Type: 'AWS::Lambda::Url',
      Properties: { AuthType: 'AWS_IAM', TargetFunctionArn: fnArn },
    });
    expect(resource('ApiLambdaFunctionUrl').Condition).toBeUndefined();
    expect(template.Outputs?.ApiLambdaFunctionUrl).toMatchObject({
      Value: { 'Fn::GetAtt': ['ApiLambdaFunctionUrl', 'FunctionUrl'] },
    });
  });

  it('offers callers both permissions a function URL needs: InvokeFunctionUrl (AWS_IAM) and InvokeFunction via the URL only', () => {
    const policy = resource('ApiInvokePolicy');
    expect(policy.Type).toBe('AWS::IAM::ManagedPolicy');
    expect((policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement).toEqual([
      {
        Sid: 'InvokeApiUrl',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunctionUrl',
        Resource: fnArn,
        Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      },
      {
        Sid: 'InvokeApiViaUrl',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: fnArn,
        Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
      },
    ]);
    expect(template.Outputs?.ApiInvokePolicyArn).toMatchObject({ Value: { Ref: 'ApiInvokePolicy' } });
  });

  it('by default has no other URL than the two AWS_IAM ones and grants nobody anything in their resource policies', () => {
    const urls = deployed(template).filter(([, r]) => r.Type === 'AWS::Lambda::Url');
    expect(urls.map(([id]) => id).sort()).toEqual(['ApiLambdaFunctionUrl', 'ApiReadLambdaFunctionUrl']);
    for (const [, url] of urls) expect(url.Properties.AuthType).toBe('AWS_IAM');
    expect(permissionsOf(template, 'ApiLambdaFunction')).toEqual([]);
    expect(permissionsOf(template, 'ApiReadLambdaFunction')).toEqual([]);
    const publicGrants = deployed(template).filter(
      ([, r]) => r.Type === 'AWS::Lambda::Permission' && r.Properties.Principal === '*',
    );
    expect(publicGrants).toEqual([]);
  });

  it('apiCallerPrincipal puts both permissions in the resource policy, for that principal only', () => {
    const grants = permissionsOf(withOptions, 'ApiLambdaFunction').map((r) => r.Properties);
    expect(grants).toEqual([
      {
        FunctionName: fnArn,
        Action: 'lambda:InvokeFunctionUrl',
        Principal: OPTIONS.apiCallerPrincipal,
        FunctionUrlAuthType: 'AWS_IAM',
      },
      {
        FunctionName: fnArn,
        Action: 'lambda:InvokeFunction',
        Principal: OPTIONS.apiCallerPrincipal,
        InvokedViaFunctionUrl: true,
      },
    ]);
  });

  it('a read-only URL with AWS_IAM auth for proxies and clients: a function in read-only mode whose role cannot write, and its own invoke policy', () => {
    const fn = resource('ApiReadLambdaFunction');
    expect(fn.Condition).toBeUndefined();
    expect(fn.Properties).toMatchObject({ Handler: 'dist/api.handler', Timeout: 30, MemorySize: 256 });
    expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(envOf(fn)).toMatchObject({
      API_READ_ONLY: 'true',
      SENTINEL_CONFIG_FILE: `/var/task/${EXAMPLE_CONFIG}`,
    });
    expect(envOf(resource('ApiLambdaFunction')).API_READ_ONLY).toBeUndefined();
    const readArn = { 'Fn::GetAtt': ['ApiReadLambdaFunction', 'Arn'] };
    expect(resource('ApiReadLambdaFunctionUrl').Properties).toEqual({
      AuthType: 'AWS_IAM',
      TargetFunctionArn: readArn,
    });
    const role = resource(refOf(fn.Properties.Role) as string);
    expect(statement(role, 'ReadState', template)).toEqual({
      Sid: 'ReadState',
      Effect: 'Allow',
      Action: API_READ_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`),
      Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
    });
    expect(allowedActions(role).filter((a) => a.startsWith('dynamodb:'))).toEqual(
      API_READ_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`).sort(),
    );
    const names = zipEntryNames(readFileSync(join(SERVERLESS_DIR, 'apiRead.zip'))).sort();
    expect(names).toEqual([EXAMPLE_CONFIG, 'dist/api.mjs', 'dist/api.mjs.map']);
    // Its policy grants exactly the two URL permissions on the read-only function, and nothing on the
    // operators' one; the operators' policy nothing on the read-only one.
    const policy = resource('ApiReadInvokePolicy');
    expect(policy.Type).toBe('AWS::IAM::ManagedPolicy');
    expect((policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement).toEqual([
      {
        Sid: 'InvokeApiReadUrl',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunctionUrl',
        Resource: readArn,
        Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      },
      {
        Sid: 'InvokeApiReadViaUrl',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: readArn,
        Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
      },
    ]);
    const writeStatements = (
      resource('ApiInvokePolicy').Properties.PolicyDocument as { Statement: Statement[] }
    ).Statement;
    for (const st of writeStatements) expect(st.Resource).toEqual(fnArn);
    expect(template.Outputs?.ApiReadInvokePolicyArn).toMatchObject({ Value: { Ref: 'ApiReadInvokePolicy' } });
    expect(template.Outputs?.ApiReadLambdaFunctionUrl).toMatchObject({
      Value: { 'Fn::GetAtt': ['ApiReadLambdaFunctionUrl', 'FunctionUrl'] },
    });
  });

  it.each(VARIANTS)(
    '%s: every API function whose role may write takes IAM-signed requests only, and every other is in read-only mode',
    (_, t) => {
      const apis = resourcesOfType('AWS::Lambda::Function', t()).filter(
        ([, fn]) => fn.Properties.Handler === 'dist/api.handler',
      );
      expect(apis.length).toBeGreaterThanOrEqual(2);
      for (const [id, fn] of apis) {
        const writes = allowedActions(resource(refOf(fn.Properties.Role) as string, t()), t()).filter((a) =>
          API_WRITE_DYNAMODB_OPERATIONS.some((op) => a === `dynamodb:${op}`),
        );
        const urls = resourcesOfType('AWS::Lambda::Url', t()).filter(
          ([, u]) => refOf(u.Properties.TargetFunctionArn) === id,
        );
        expect(urls, id).toHaveLength(1);
        if (writes.length > 0) {
          expect(urls[0]?.[1].Properties.AuthType, id).toBe('AWS_IAM');
          expect(envOf(fn).API_READ_ONLY, id).toBeUndefined();
        } else {
          expect(envOf(fn).API_READ_ONLY, id).toBe('true');
        }
      }
    },
  );

  it("apiReadCallerPrincipal puts both permissions in the read-only function's resource policy, for that principal only", () => {
    const readArn = { 'Fn::GetAtt': ['ApiReadLambdaFunction', 'Arn'] };
    expect(permissionsOf(withOptions, 'ApiReadLambdaFunction').map((r) => r.Properties)).toEqual([
      {
        FunctionName: readArn,
        Action: 'lambda:InvokeFunctionUrl',
        Principal: OPTIONS.apiReadCallerPrincipal,
        FunctionUrlAuthType: 'AWS_IAM',
      },
      {
        FunctionName: readArn,
        Action: 'lambda:InvokeFunction',
        Principal: OPTIONS.apiReadCallerPrincipal,
        InvokedViaFunctionUrl: true,
      },
    ]);
  });

  it('publicApiUrl adds a third, read-only URL with auth NONE and both public permissions', () => {
    const fn = resource('ApiPublicLambdaFunction', withOptions);
    expect(fn.Condition).toBe('HasPublicApiUrl');
    expect(fn.Properties.Handler).toBe('dist/api.handler');
    expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(envOf(fn).API_READ_ONLY).toBe('true');
    expect(conditionIsTrue(withOptions, 'HasPublicApiUrl')).toBe(true);
    expect(conditionIsTrue(template, 'HasPublicApiUrl')).toBe(false);
    const publicArn = { 'Fn::GetAtt': ['ApiPublicLambdaFunction', 'Arn'] };
    expect(resource('ApiPublicLambdaFunctionUrl', withOptions).Properties).toEqual({
      AuthType: 'NONE',
      TargetFunctionArn: publicArn,
    });
    const grants = permissionsOf(withOptions, 'ApiPublicLambdaFunction').map((r) => r.Properties);
    expect(grants).toEqual(
      expect.arrayContaining([
        {
          FunctionName: publicArn,
          Action: 'lambda:InvokeFunctionUrl',
          Principal: '*',
          FunctionUrlAuthType: 'NONE',
        },
        {
          FunctionName: publicArn,
          Action: 'lambda:InvokeFunction',
          Principal: '*',
          InvokedViaFunctionUrl: true,
        },
      ]),
    );
    expect(grants).toHaveLength(2);
    // Its role cannot write, whatever a request asks for.
    const role = resource(refOf(fn.Properties.Role) as string, withOptions);
    expect(allowedActions(role, withOptions).filter((a) => a.startsWith('dynamodb:'))).toEqual(
      API_READ_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`).sort(),
    );
    expect(withOptions.Outputs?.ApiPublicLambdaFunctionUrl).toMatchObject({ Condition: 'HasPublicApiUrl' });
    // Everything of the public URL shares its condition (nothing points at a function that is not there).
    for (const [id, r] of Object.entries(withOptions.Resources)) {
      if (JSON.stringify(r).includes('ApiPublic')) expect(r.Condition, id).toBe('HasPublicApiUrl');
    }
  });

  it("its role reads the table and writes only in the masters' partitions, with no wildcard action", () => {
    const role = resource(refOf(resource('ApiLambdaFunction').Properties.Role) as string);
    const table = { 'Fn::GetAtt': ['StateTable', 'Arn'] };
    expect(statement(role, 'ReadState', template)).toEqual({
      Sid: 'ReadState',
      Effect: 'Allow',
      Action: API_READ_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`),
      Resource: table,
    });
    expect(statement(role, 'WriteMasters', template)).toEqual({
      Sid: 'WriteMasters',
      Effect: 'Allow',
      Action: API_WRITE_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`),
      Resource: table,
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${API_WRITE_PARTITION_PREFIX}*`] },
      },
    });
    for (const action of allowedActions(role)) expect(action).not.toMatch(/\*/);
  });

  it('alarms when the function fails', () => {
    const alarm = resourcesOfType('AWS::CloudWatch::Alarm').find(
      ([, a]) =>
        a.Properties.MetricName === 'Errors' &&
        refOf((a.Properties.Dimensions as { Value: unknown }[])[0]?.Value) === 'ApiLambdaFunction',
    );
    expect(alarm).toBeDefined();
  });
});

describe('alerts', () => {
  it('has the alert topic with its e-mail subscription and a topic policy for CloudWatch alarms', () => {
    expect(resource('AlertTopic').Type).toBe('AWS::SNS::Topic');
    expect(resource('AlertEmailSubscription').Properties).toMatchObject({
      Protocol: 'email',
      Endpoint: 'alerts@example.com',
      TopicArn: { Ref: 'AlertTopic' },
    });
    const policy = resource('AlertTopicPolicy').Properties.PolicyDocument as { Statement: Statement[] };
    for (const s of policy.Statement.filter((x) => x.Effect === 'Allow')) {
      expect(s.Principal).toEqual({ Service: 'cloudwatch.amazonaws.com' });
    }
  });

  it('has a second topic for the ops alarms, with its own e-mail subscription (opsAlarmEmail, by default alertEmail)', () => {
    expect(resource('OpsAlarmTopic').Type).toBe('AWS::SNS::Topic');
    for (const [t, email] of [
      [template, 'alerts@example.com'],
      [withOptions, OPTIONS.alertEmail],
    ] as const) {
      expect(resource('OpsAlarmEmailSubscription', t)).toMatchObject({
        Condition: 'HasOpsAlarmEmail',
        Properties: { Protocol: 'email', Endpoint: email, TopicArn: { Ref: 'OpsAlarmTopic' } },
      });
      expect(conditionIsTrue(t, 'HasOpsAlarmEmail')).toBe(true);
    }
    const policy = resource('OpsAlarmTopicPolicy').Properties;
    expect(policy.Topics).toEqual([{ Ref: 'OpsAlarmTopic' }]);
    const statements = (policy.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(statements.filter((x) => x.Effect === 'Allow')).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: 'OpsAlarmTopic' },
      }),
    ]);
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    // No function may publish to it: it stays a path apart from the alert topic.
    for (const [id, role] of resourcesOfType('AWS::IAM::Role')) {
      for (const st of policyStatements(role))
        expect(JSON.stringify(st.Resource), id).not.toContain('OpsAlarm');
    }
    expect(template.Outputs?.OpsAlarmTopicArn).toMatchObject({ Value: { Ref: 'OpsAlarmTopic' } });
  });

  it('has the dead-letter queue', () => {
    expect(resource('NotifyDeadLetterQueue')).toMatchObject({
      Type: 'AWS::SQS::Queue',
      Properties: { MessageRetentionPeriod: 1209600 },
    });
  });

  it('sends the alarms about the alert path and the faults to the ops alarm topic, every other one to the alert topic', () => {
    // The dead letters and the notifier's lag: when they fire, the alert topic may be what failed, so
    // they take the other path. Faults are for the operators too.
    const OPS_ALARMS = ['DeadLettersAlarm', 'NotifyIteratorAgeAlarm', 'SentinelFaultsAlarm'];
    for (const t of [template, withOptions]) {
      const alarms = resourcesOfType('AWS::CloudWatch::Alarm', t);
      expect(alarms.map(([id]) => id)).toEqual(expect.arrayContaining(OPS_ALARMS));
      for (const [id, alarm] of alarms) {
        const topic = OPS_ALARMS.includes(id) ? 'OpsAlarmTopic' : 'AlertTopic';
        expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topic }]);
        if (alarm.Properties.OKActions !== undefined) {
          expect(alarm.Properties.OKActions, id).toEqual([{ Ref: topic }]);
        }
      }
    }
  });

  /** pattern → [metric name, value], of the metric filters on one log group. */
  const filtersOf = (logGroup: string): Record<string, unknown> =>
    Object.fromEntries(
      resourcesOfType('AWS::Logs::MetricFilter')
        .filter(([, f]) => refOf(f.Properties.LogGroupName) === logGroup)
        .map(([id, f]) => {
          const transformations = f.Properties.MetricTransformations as Json[];
          expect(transformations, id).toHaveLength(1);
          const [m] = transformations as [Json];
          // No dimensions: one metric, whatever the number of log groups feeding it.
          expect(Object.keys(m).sort(), id).toEqual(['MetricName', 'MetricNamespace', 'MetricValue']);
          expect(m.MetricNamespace, id).toBe('lambda-sentinel/ci');
          return [f.Properties.FilterPattern, [m.MetricName, Number(m.MetricValue)]];
        }),
    );
  const FAULT_LINES =
    '{ $.fault = "event-dropped" || $.fault = "loop-failed" || $.fault = "failover-crashed" || $.fault = "handover-state-invalid" || $.fault = "handover-state-not-saved" }';

  it("counts healthy loop ticks (a value per sentinel), +try-failover, -failover-abort-* and faults from each group's JSON log records", () => {
    const tickValues = sentinelFunctions().map(([id]) => {
      const filters = filtersOf(id.replace(/LambdaFunction$/, 'LogGroup'));
      const tick = filters['{ $.tick > 0 && $.failedMasters = 0 }'] as [string, number];
      expect(tick[0]).toBe('LoopTicks');
      expect(filters).toEqual({
        // A tick in which a master's tick failed is not a healthy one: the loop-stale alarm sees it.
        '{ $.tick > 0 && $.failedMasters = 0 }': tick,
        '{ $.event = "+try-failover" }': ['FailoversAndFaults', 1],
        '{ $.event = "-failover-abort-*" }': ['FailoversAndFaults', 1e5],
        '{ $.failedMasters > 0 }': ['FailoversAndFaults', 1e10],
        [FAULT_LINES]: ['FailoversAndFaults', 1e10],
      });
      return tick[1];
    });
    // One group of five decimal digits per sentinel.
    expect([...tickValues].sort((a, b) => a - b)).toEqual([1, 1e5, 1e10]);
    expect(filtersOf('FailoverLogGroup')).toEqual({
      '{ $.event = "+try-failover" }': ['FailoversAndFaults', 1],
      '{ $.event = "-failover-abort-*" }': ['FailoversAndFaults', 1e5],
      [FAULT_LINES]: ['FailoversAndFaults', 1e10],
    });
  });

  it('the fault lines counted are every fault kind but lease-not-released, which follows a store outage', () => {
    const counted = [...FAULT_LINES.matchAll(/\$\.fault = "([^"]+)"/g)].map((m) => m[1]);
    expect(counted.sort()).toEqual(
      Object.values(FAULT)
        .filter((f) => f !== FAULT.leaseNotReleased)
        .sort(),
    );
  });

  it('the loop-stale alarms look at 2 minutes of 1-minute sums and count missing data as no tick', () => {
    const onLoopTicks = resourcesOfType('AWS::CloudWatch::Alarm').filter(([, a]) =>
      JSON.stringify(a.Properties.Metrics ?? a.Properties.MetricName).includes('"LoopTicks"'),
    );
    expect(onLoopTicks.map(([id]) => id).sort()).toEqual([
      'SentinelLoopStaleAlarm',
      'SentinelMajorityStaleAlarm',
    ]);
    for (const [id, a] of onLoopTicks) {
      expect(a.Properties, id).toMatchObject({
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        TreatMissingData: 'breaching',
      });
      const stats = (a.Properties.Metrics as { MetricStat?: { Period: number; Stat: string } }[]).filter(
        (q) => q.MetricStat,
      );
      expect(
        stats.map((q) => q.MetricStat),
        id,
      ).toEqual([expect.objectContaining({ Period: 60, Stat: 'Sum' })]);
    }
  });

  // -------------------------------------------------------------------------------------------------------
  // Failure modes: one minute of log lines and AWS metrics, which repeats, run through the template's
  // metric filters and alarms (test/infra/alarmModel.ts). Each mode names the alarm that tells someone,
  // and the topic it tells them on; every alarm must be there for a mode.

  const ALERT = 'AlertTopic';
  const OPS = 'OpsAlarmTopic';

  interface Minute {
    readonly logs: LogMinute;
    readonly metrics: readonly (readonly [string, Samples])[];
  }
  interface FailureMode {
    readonly mode: string;
    readonly alarm: string;
    readonly topic: typeof ALERT | typeof OPS;
    readonly minute: Minute;
    /** The state before (default: a healthy minute): the alarm must go from OK to ALARM. */
    readonly from?: Minute;
  }

  const sentinelsOf = (t: Template) =>
    sentinelFunctions(t).map(([fn, r]) => ({
      fn,
      group: fn.replace(/LambdaFunction$/, 'LogGroup'),
      id: envOf(r).SENTINEL_ID as string,
    }));
  const tickLine = (sentinel: string, failedMasters: number): Json => ({
    level: 'INFO',
    message: `${sentinel}: mymaster ok`,
    service: 'lambda-sentinel',
    component: 'sentinel',
    sentinel,
    tick: 42,
    failedMasters,
    tilt: false,
    storeUnavailable: false,
    mastersOk: 1 - failedMasters,
    masters: [],
  });
  const eventLine = (type: string): Json => ({
    level: 'INFO',
    message: `${type} master mymaster 10.0.0.5 6379`,
    event: type,
    payload: 'master mymaster 10.0.0.5 6379',
    master: 'mymaster',
  });
  const faultLine = (fault: string): Json => ({ level: 'ERROR', message: 'a fault', fault });

  const errorsKey = (fn: string) => metricKey('AWS/Lambda', 'Errors', { FunctionName: { Ref: fn } });
  const invocationsKey = (fn: string) =>
    metricKey('AWS/Lambda', 'Invocations', { FunctionName: { Ref: fn } });
  const queueKey = (queue: string) =>
    metricKey('AWS/SQS', 'ApproximateNumberOfMessagesVisible', {
      QueueName: { 'Fn::GetAtt': [queue, 'QueueName'] },
    });
  const iteratorAgeKey = metricKey('AWS/Lambda', 'IteratorAge', {
    FunctionName: { Ref: 'NotifyLambdaFunction' },
  });

  /** Each function runs, none fails; each sentinel ticks healthily `ticks` times; no dead letter; no lag. */
  const healthy = (t: Template, ticks = 30): Minute => ({
    logs: Object.fromEntries(
      sentinelsOf(t).map((s) => [s.group, [{ line: tickLine(s.id, 0), times: ticks }]] as const),
    ),
    metrics: [
      ...resourcesOfType('AWS::Lambda::Function', t).flatMap(([fn]) => [
        [errorsKey(fn), { value: 0, count: 1 }] as const,
        [invocationsKey(fn), { value: 1, count: 1 }] as const,
      ]),
      [queueKey('NotifyDeadLetterQueue'), { value: 0, count: 1 }],
      [iteratorAgeKey, { value: 300, count: 1 }],
    ],
  });
  const withLogs = (m: Minute, group: string, lines: LogMinute[string]): Minute => ({
    ...m,
    logs: { ...m.logs, [group]: [...(m.logs[group] ?? []), ...lines] },
  });
  const silent = (m: Minute, ...groups: string[]): Minute => ({
    ...m,
    logs: Object.fromEntries(Object.entries(m.logs).filter(([g]) => !groups.includes(g))),
  });
  const withMetrics = (m: Minute, metrics: Minute['metrics']): Minute => ({
    ...m,
    metrics: [...m.metrics, ...metrics],
  });

  /**
   * A failed invocation of `fn`: its Errors metric, and, once it has no retry left (`retriesLeft` false,
   * or the template allows none), its record in its on-failure destination, both found in the template
   * (an EventInvokeConfig or a stream mapping).
   */
  const failedInvocation = (t: Template, fn: string, retriesLeft: boolean): Minute['metrics'] => {
    const metrics: [string, Samples][] = [[errorsKey(fn), { value: 1, count: 1 }]];
    const configs = deployed(t).filter(
      ([, r]) =>
        (r.Type === 'AWS::Lambda::EventInvokeConfig' || r.Type === 'AWS::Lambda::EventSourceMapping') &&
        refOf(r.Properties.FunctionName) === fn,
    );
    for (const [, config] of configs) {
      const final = !retriesLeft || config.Properties.MaximumRetryAttempts === 0;
      const destination = (config.Properties.DestinationConfig as { OnFailure?: { Destination: unknown } })
        ?.OnFailure?.Destination;
      if (!final || !destination) continue;
      const queue = refOf(destination) as string;
      expect(resource(queue, t).Type).toBe('AWS::SQS::Queue');
      metrics.push([queueKey(queue), { value: 1, count: 1 }]);
    }
    return metrics;
  };

  function failureModes(t: Template): FailureMode[] {
    const sentinels = sentinelsOf(t);
    const ok = healthy(t);
    const modes: FailureMode[] = [];
    for (const s of sentinels) {
      modes.push(
        {
          mode: `${s.id} is not invoked, its invocations fail, or it cannot take its loop lease: no tick line`,
          alarm: 'SentinelLoopStaleAlarm',
          topic: ALERT,
          minute: silent(ok, s.group),
        },
        {
          mode: `${s.id} stops while the other two tick as fast as a loop can (60,000 a minute)`,
          alarm: 'SentinelLoopStaleAlarm',
          topic: ALERT,
          minute: silent(healthy(t, 60_000), s.group),
          from: healthy(t, 60_000),
        },
        {
          mode: `every tick of ${s.id} fails`,
          alarm: 'SentinelLoopStaleAlarm',
          topic: ALERT,
          minute: withLogs(silent(ok, s.group), s.group, [{ line: tickLine(s.id, 1), times: 30 }]),
        },
        {
          mode: `a master's tick fails in ${s.id}`,
          alarm: 'SentinelFaultsAlarm',
          topic: OPS,
          minute: withLogs(ok, s.group, [{ line: tickLine(s.id, 1), times: 1 }]),
        },
        {
          mode: `an invocation of ${s.id} fails (error, timeout, out of memory, bad configuration) or is dropped`,
          alarm: 'DeadLettersAlarm',
          topic: OPS,
          minute: withMetrics(ok, failedInvocation(t, s.fn, true)),
        },
      );
      for (const other of sentinels.filter((o) => o !== s)) {
        modes.push({
          mode: `${other.id} stops while ${s.id} is already stale: no majority, no failover`,
          alarm: 'SentinelMajorityStaleAlarm',
          topic: ALERT,
          minute: silent(ok, s.group, other.group),
          from: silent(ok, s.group),
        });
      }
    }
    modes.push({
      mode: 'no sentinel logs a healthy tick (the metric has no data at all)',
      alarm: 'SentinelLoopStaleAlarm',
      topic: ALERT,
      minute: silent(ok, ...sentinels.map((s) => s.group)),
    });
    for (const group of [...sentinels.map((s) => s.group), 'FailoverLogGroup']) {
      modes.push({
        mode: `+try-failover in ${group}`,
        alarm: 'FailoverStartedAlarm',
        topic: ALERT,
        minute: withLogs(ok, group, [{ line: eventLine('+try-failover'), times: 1 }]),
      });
      for (const abort of ['-failover-abort-not-elected', '-failover-abort-no-good-slave']) {
        modes.push({
          mode: `${abort} in ${group}`,
          alarm: 'FailoverAbortedAlarm',
          topic: ALERT,
          minute: withLogs(ok, group, [{ line: eventLine(abort), times: 1 }]),
        });
      }
      for (const fault of Object.values(FAULT).filter((f) => f !== FAULT.leaseNotReleased)) {
        modes.push({
          mode: `fault ${fault} in ${group}`,
          alarm: 'SentinelFaultsAlarm',
          topic: OPS,
          minute: withLogs(ok, group, [{ line: faultLine(fault), times: 1 }]),
        });
      }
    }
    // The digit groups hold their counts: the most lines of the other kinds do not hide one line.
    const [first] = sentinels as [(typeof sentinels)[number]];
    const busy = withLogs(
      withLogs(ok, first.group, [{ line: faultLine(FAULT.eventDropped), times: 900_000 }]),
      'FailoverLogGroup',
      [
        { line: eventLine('+try-failover'), times: 99_998 },
        { line: eventLine('-failover-abort-not-elected'), times: 99_998 },
      ],
    );
    modes.push(
      {
        mode: 'a failover starts in a minute with 900,000 fault lines and 99,998 aborts',
        alarm: 'FailoverStartedAlarm',
        topic: ALERT,
        minute: withLogs(silent(busy, 'FailoverLogGroup'), 'FailoverLogGroup', [
          { line: eventLine('-failover-abort-not-elected'), times: 99_999 },
          { line: eventLine('+try-failover'), times: 1 },
        ]),
        from: withLogs(silent(busy, 'FailoverLogGroup'), 'FailoverLogGroup', [
          { line: eventLine('-failover-abort-not-elected'), times: 99_999 },
        ]),
      },
      {
        mode: 'a failover is aborted in a minute with 900,000 fault lines and 99,999 failovers started',
        alarm: 'FailoverAbortedAlarm',
        topic: ALERT,
        minute: withLogs(silent(busy, 'FailoverLogGroup'), 'FailoverLogGroup', [
          { line: eventLine('+try-failover'), times: 99_999 },
          { line: eventLine('-failover-abort-no-good-slave'), times: 1 },
        ]),
        from: withLogs(silent(busy, 'FailoverLogGroup'), 'FailoverLogGroup', [
          { line: eventLine('+try-failover'), times: 99_999 },
        ]),
      },
      {
        mode: 'a fault in a minute with 99,999 failovers started and aborted',
        alarm: 'SentinelFaultsAlarm',
        topic: OPS,
        minute: withLogs(silent(busy, first.group), first.group, [
          { line: tickLine(first.id, 0), times: 30 },
          { line: faultLine(FAULT.loopFailed), times: 1 },
        ]),
        from: withLogs(silent(busy, first.group), first.group, [{ line: tickLine(first.id, 0), times: 30 }]),
      },
      {
        mode: 'an invocation of the failover function fails',
        alarm: 'FailoverErrorsAlarm',
        topic: ALERT,
        minute: withMetrics(ok, failedInvocation(t, 'FailoverLambdaFunction', true)),
      },
      {
        mode: 'the failover function gives a stream record up after its retries',
        alarm: 'DeadLettersAlarm',
        topic: OPS,
        minute: withMetrics(ok, failedInvocation(t, 'FailoverLambdaFunction', false)),
      },
      {
        mode: 'the notifier gives a stream record up after its retries (the alert is not sent)',
        alarm: 'DeadLettersAlarm',
        topic: OPS,
        minute: withMetrics(ok, failedInvocation(t, 'NotifyLambdaFunction', false)),
      },
      {
        mode: 'the notifier is more than 2 minutes behind the event log (alerts are late)',
        alarm: 'NotifyIteratorAgeAlarm',
        topic: OPS,
        minute: withMetrics(ok, [[iteratorAgeKey, { value: 180_000, count: 1 }]]),
      },
      {
        mode: 'an invocation of the API function fails (it could not start): the URL answers 502',
        alarm: 'ApiErrorsAlarm',
        topic: ALERT,
        minute: withMetrics(ok, failedInvocation(t, 'ApiLambdaFunction', true)),
      },
    );
    if (t.Resources.SlackLambdaFunction && conditionIsTrue(t, 'HasSlack')) {
      modes.push({
        mode: 'a Slack delivery fails three times (the Slack message is not sent)',
        alarm: 'DeadLettersAlarm',
        topic: OPS,
        minute: withMetrics(ok, failedInvocation(t, 'SlackLambdaFunction', false)),
      });
    }
    return modes;
  }

  const dataOf = (t: Template, m: Minute): MetricData => {
    const data = publishLogMetrics(t, m.logs);
    for (const [key, samples] of m.metrics) addSamples(data, key, samples);
    return data;
  };
  const alarmsInAlarm = (t: Template, m: Minute): string[] => {
    const data = dataOf(t, m);
    return deployed(t)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .filter(([, r]) => alarmState(r, data) === 'ALARM')
      .map(([id]) => id);
  };

  it.each(VARIANTS)('%s: a healthy minute raises no alarm, with one tick a minute or 60,000', (_, t) => {
    expect(alarmsInAlarm(t(), healthy(t(), 1))).toEqual([]);
    expect(alarmsInAlarm(t(), healthy(t(), 60_000))).toEqual([]);
  });

  it.each(VARIANTS)('%s: each kind of log line raises its own alarm and no other', (_, t) => {
    const ok = healthy(t());
    const only = (lines: LogMinute[string]) => alarmsInAlarm(t(), withLogs(ok, 'FailoverLogGroup', lines));
    expect(only([{ line: eventLine('+try-failover'), times: 99_999 }])).toEqual(['FailoverStartedAlarm']);
    expect(only([{ line: eventLine('-failover-abort-not-elected'), times: 99_999 }])).toEqual([
      'FailoverAbortedAlarm',
    ]);
    expect(only([{ line: faultLine(FAULT.eventDropped), times: 900_000 }])).toEqual(['SentinelFaultsAlarm']);
  });

  it.each(VARIANTS)('%s: every failure mode reaches a person through its alarm and topic', (_, t) => {
    const modes = failureModes(t());
    const alarms = deployed(t()).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
    for (const m of modes) {
      const alarm = alarms.find(([id]) => id === m.alarm)?.[1];
      expect(alarm, `${m.mode}: alarm ${m.alarm}`).toBeDefined();
      expect(alarm?.Properties.AlarmActions, `${m.mode}: ${m.alarm} notifies`).toEqual([{ Ref: m.topic }]);
      const before = dataOf(t(), m.from ?? healthy(t()));
      const after = dataOf(t(), m.minute);
      expect(alarmState(alarm as Resource, before), `${m.mode}: ${m.alarm} before`).toBe('OK');
      expect(alarmState(alarm as Resource, after), `${m.mode}: ${m.alarm}`).toBe('ALARM');
    }
    // No alarm without a failure mode: each one is paid for every month.
    const caught = new Set(modes.map((m) => m.alarm));
    for (const [id] of alarms) expect(caught.has(id), `${id} catches no listed failure mode`).toBe(true);
  });

  it('docs/deploy.md, "Alarms", lists exactly the alarms of the default deployment', () => {
    const docs = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    const section = /\n## Alarms\n([\s\S]*?)\n## /.exec(docs)?.[1] ?? '';
    const listed = [...section.matchAll(/^\| `([a-z-]+)`/gm)].map((m) => m[1]).sort();
    const names = deployed(template)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([, r]) => (r.Properties.AlarmName as string).replace(/^lambda-sentinel-ci-/, ''))
      .sort();
    expect(listed).toEqual(names);
  });

  it('the default deployment costs at most $1.50 a month in CloudWatch, as docs/deploy.md states', () => {
    const cost = fixedCloudWatchCost(template);
    expect(cost.openEnded).toEqual([]);
    expect(cost.dashboards).toBe(0);
    expect(cost.compositeAlarms + cost.highResolutionAlarmMetrics).toBe(0);
    expect(cost.customMetrics).toEqual([
      'lambda-sentinel/ci FailoversAndFaults',
      'lambda-sentinel/ci LoopTicks',
    ]);
    expect(cost.monthlyUsd).toBeLessThanOrEqual(DEFAULT_DEPLOYMENT_BUDGET_USD);
    const line = describeFixedCost(cost);
    const docs = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    const section = /\n## Alarms\n([\s\S]*?)\n## /.exec(docs)?.[1] ?? '';
    expect(section, 'the fixed cost line in docs/deploy.md, "Alarms"').toContain(
      `**CloudWatch, fixed**: ${line}`,
    );
    // Wherever else the doc states it (the cost table's notes), it says the same.
    for (const m of docs.matchAll(/\**CloudWatch, fixed\**: (.*? a month)/g)) expect(m[1]).toBe(line);
  });

  it('prices each alarm by the metrics it reads: expressions are free, every MetricStat is not', () => {
    const cost = fixedCloudWatchCost(template);
    for (const a of cost.alarms) expect(a.metrics, a.id).toBe(1);
    expect(cost.alarmMetrics).toBe(cost.alarms.length);
    const t: Template = {
      Resources: {
        Math: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            Metrics: [
              { Id: 'a', MetricStat: { Period: 60 } },
              { Id: 'b', MetricStat: { Period: 60 } },
              { Id: 'e', Expression: 'a + b' },
            ],
          },
        },
        Fast: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'X', Period: 10 } },
        Composite: { Type: 'AWS::CloudWatch::CompositeAlarm', Properties: {} },
        Board: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
        PerValue: {
          Type: 'AWS::Logs::MetricFilter',
          Properties: {
            MetricTransformations: [
              { MetricNamespace: 'n', MetricName: 'M', Dimensions: [{ Key: 'K', Value: '$.field' }] },
            ],
          },
        },
      },
    };
    const p = CLOUDWATCH_PRICES;
    expect(fixedCloudWatchCost(t)).toMatchObject({
      alarmMetrics: 2,
      highResolutionAlarmMetrics: 1,
      compositeAlarms: 1,
      dashboards: 1,
      openEnded: ['n M{K=$.field}'],
      monthlyUsd:
        Math.round(
          100 *
            (2 * p.alarmMetric +
              p.highResolutionAlarmMetric +
              p.compositeAlarm +
              p.customMetric +
              p.dashboard),
        ) / 100,
    });
    expect(describeFixedCost(fixedCloudWatchCost(t))).toMatch(/= at least \$\d+\.\d\d a month$/);
  });

  it('the dashboard is opt-in (createDashboard), and its body is valid JSON', () => {
    expect(deployed(template).filter(([, r]) => r.Type === 'AWS::CloudWatch::Dashboard')).toEqual([]);
    const dashboards = deployed(withOptions).filter(([, r]) => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(dashboards.map(([id]) => id)).toEqual(['Dashboard']);
    expect(fixedCloudWatchCost(withOptions).monthlyUsd).toBeCloseTo(
      fixedCloudWatchCost(template).monthlyUsd + CLOUDWATCH_PRICES.dashboard,
    );
    const body = resource('Dashboard', withOptions).Properties.DashboardBody as { 'Fn::Sub': string };
    const substituted = body['Fn::Sub'].replace(/\$\{[^}]+\}/g, 'x');
    const parsed = JSON.parse(substituted) as { widgets: unknown[] };
    expect(parsed.widgets.length).toBeGreaterThan(3);
  });
});

describe('the event functions', () => {
  const eventSourceMappingOf = (fnId: string): Json => {
    const mappings = resourcesOfType('AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => refOf(m.Properties.FunctionName) === fnId,
    );
    expect(mappings, `stream mapping of ${fnId}`).toHaveLength(1);
    return (mappings[0] as [string, Resource])[1].Properties;
  };
  const filterOf = (mapping: Json): unknown =>
    JSON.parse((mapping.FilterCriteria as { Filters: { Pattern: string }[] }).Filters[0]?.Pattern ?? 'null');
  const deadLetters = { OnFailure: { Destination: { 'Fn::GetAtt': ['NotifyDeadLetterQueue', 'Arn'] } } };

  it('notify reads the table stream outside the VPC, in order, with partial batch responses and a DLQ', () => {
    const fn = resource('NotifyLambdaFunction');
    expect(fn.Properties.Handler).toBe('dist/notify.handler');
    expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(envOf(fn).TOPIC_ARN).toEqual({ Ref: 'AlertTopic' });
    const mapping = eventSourceMappingOf('NotifyLambdaFunction');
    expect(mapping).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['StateTable', 'StreamArn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      StartingPosition: 'LATEST',
      BatchSize: 10,
      ParallelizationFactor: 1,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 3600,
      BisectBatchOnFunctionError: true,
      DestinationConfig: deadLetters,
    });
    expect(filterOf(mapping)).toEqual({
      eventName: ['INSERT'],
      dynamodb: { NewImage: { kind: { S: ['event'] } } },
    });
  });

  it('failover runs in the VPC across the three sentinel subnets, on master records with a failover in progress', () => {
    const fn = resource('FailoverLambdaFunction');
    expect(fn.Properties.Handler).toBe('dist/failover.handler');
    const subnets = (fn.Properties.VpcConfig as { SubnetIds: string[] }).SubnetIds;
    const sentinelSubnets = sentinelFunctions().flatMap(
      ([, s]) => (s.Properties.VpcConfig as { SubnetIds: string[] }).SubnetIds,
    );
    expect([...subnets].sort()).toEqual([...sentinelSubnets].sort());
    expect(envOf(fn).SENTINEL_CONFIG_FILE).toBe(`/var/task/${EXAMPLE_CONFIG}`);
    const mapping = eventSourceMappingOf('FailoverLambdaFunction');
    expect(mapping).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['StateTable', 'StreamArn'] },
      DestinationConfig: deadLetters,
    });
    expect(filterOf(mapping)).toEqual({
      eventName: ['INSERT', 'MODIFY'],
      dynamodb: {
        NewImage: { kind: { S: ['master'] }, failoverState: { S: [{ 'anything-but': ['none'] }] } },
      },
    });
  });

  it('slack subscribes to the alert topic outside the VPC, reads an SSM parameter, and is optional', () => {
    const fn = resource('SlackLambdaFunction');
    expect(fn.Condition).toBe('HasSlack');
    expect(fn.Properties.VpcConfig).toBeUndefined();
    const parameter = envOf(fn).SLACK_WEBHOOK_PARAMETER as string;
    expect(parameter).toMatch(/^\//);
    expect(resource('SlackSubscription')).toMatchObject({
      Condition: 'HasSlack',
      Properties: { Protocol: 'lambda', TopicArn: { Ref: 'AlertTopic' } },
    });
    expect(resource('SlackInvokePermission')).toMatchObject({
      Condition: 'HasSlack',
      Properties: { Principal: 'sns.amazonaws.com', SourceArn: { Ref: 'AlertTopic' } },
    });
    const config = resourcesOfType('AWS::Lambda::EventInvokeConfig').find(
      ([, c]) => refOf(c.Properties.FunctionName) === 'SlackLambdaFunction',
    );
    expect(config?.[1].Properties).toMatchObject({ MaximumRetryAttempts: 2, DestinationConfig: deadLetters });
    const ssm = policyStatements(resource('SlackRole')).find((st) => st.Action === 'ssm:GetParameters');
    expect(JSON.stringify(ssm?.Resource)).toContain(`:parameter${parameter}`);
    // Every conditional resource has the same condition (nothing points at a missing function).
    for (const [id, r] of Object.entries(template.Resources)) {
      if (JSON.stringify(r).includes('SlackLambdaFunction')) expect(r.Condition, id).toBe('HasSlack');
    }
  });
});

describe('networking', () => {
  it('creates the DynamoDB gateway endpoint only when asked (default: not)', () => {
    const endpoint = resource('DynamoDbGatewayEndpoint');
    expect(endpoint.Condition).toBe('CreateDynamoDbEndpoint');
    expect(endpoint.Properties.VpcEndpointType).toBe('Gateway');
    expect(template.Conditions?.CreateDynamoDbEndpoint).toEqual({ 'Fn::Equals': ['false', 'true'] });
  });

  it('needs no NAT gateway, and no interface endpoint unless asked (createSsmEndpoint)', () => {
    expect(resourcesOfType('AWS::EC2::NatGateway')).toEqual([]);
    const interfaces = deployed(template).filter(
      ([, r]) => r.Type === 'AWS::EC2::VPCEndpoint' && r.Properties.VpcEndpointType !== 'Gateway',
    );
    expect(interfaces).toEqual([]);
  });
});
