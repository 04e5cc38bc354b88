/**
 * The CloudFormation template that `npm run package` (build + osls `sls package --stage ci`) produces,
 * with no AWS credentials and no parameters: the example values in serverless.yml are enough. A second
 * one is packaged with every optional parameter on (`--param`, as a deploy would pass them), so each
 * option is checked both ways.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_KEY } from '../../lib/adapters/dynamodb/eventLog.js';
import { ATTR } from '../../lib/adapters/dynamodb/schema.js';
import { parseSentinelConfig } from '../../lib/config/parse.js';
import { ROOT } from '../../scripts/build.js';
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
import { zipEntryNames } from './zip.js';

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Properties: Json;
  readonly Condition?: string;
  readonly DependsOn?: string | string[];
}
interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}
interface Template {
  readonly Resources: Record<string, Resource>;
  readonly Conditions?: Record<string, unknown>;
  readonly Outputs?: Json;
}

const SERVERLESS_DIR = join(ROOT, '.serverless');
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
} as const;

/** The default deployment (example values only). */
let template: Template;
/** The same with OPTIONS. */
let withOptions: Template;
let optionsDir: string | undefined;

beforeAll(async () => {
  // No AWS credentials of any kind: packaging must not need an account.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_')) env[key] = value;
  }
  env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent';
  env.AWS_CONFIG_FILE = '/nonexistent';
  const run = promisify(execFile);
  const npmPackage = (args: string[]) =>
    run('npm', ['run', 'package', '--', '--stage', 'ci', ...args], {
      cwd: ROOT,
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
  // The variant first: every `sls package` starts by deleting .serverless, whose zips the tests read.
  optionsDir = mkdtempSync(join(tmpdir(), 'ls-package-options-'));
  const params = Object.entries(OPTIONS).flatMap(([key, value]) => ['--param', `${key}=${value}`]);
  await npmPackage(['--package', optionsDir, ...params]);
  withOptions = JSON.parse(
    readFileSync(join(optionsDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  );
  await npmPackage([]);
  template = JSON.parse(
    readFileSync(join(SERVERLESS_DIR, 'cloudformation-template-update-stack.json'), 'utf8'),
  );
}, 180_000);

afterAll(() => {
  if (optionsDir) rmSync(optionsDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// Conditions: the parameters are substituted into the template, so every condition compares literals and
// can be evaluated here, the way CloudFormation will.

function literal(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  throw new Error(`not a literal: ${JSON.stringify(value)}`);
}

function conditionIsTrue(t: Template, name: string): boolean {
  const expression = t.Conditions?.[name];
  if (expression === undefined) throw new Error(`no condition ${name}`);
  return evaluate(t, expression);
}

function evaluate(t: Template, expression: unknown): boolean {
  const e = expression as Record<string, unknown[]> & { Condition?: string };
  if (e['Fn::Equals']) return literal(e['Fn::Equals'][0]) === literal(e['Fn::Equals'][1]);
  if (e['Fn::Not']) return !evaluate(t, e['Fn::Not'][0]);
  if (e['Fn::And']) return e['Fn::And'].every((x) => evaluate(t, x));
  if (e['Fn::Or']) return e['Fn::Or'].some((x) => evaluate(t, x));
  if (typeof e.Condition === 'string') return conditionIsTrue(t, e.Condition);
  throw new Error(`cannot evaluate ${JSON.stringify(expression)}`);
}

const NO_VALUE = Symbol('AWS::NoValue');

/** `value` with every Fn::If decided and AWS::NoValue removed, as CloudFormation will deploy it. */
function resolved(t: Template, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => resolved(t, v)).filter((v) => v !== NO_VALUE);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.Ref === 'AWS::NoValue') return NO_VALUE;
    const branch = o['Fn::If'] as [string, unknown, unknown] | undefined;
    if (branch) return resolved(t, conditionIsTrue(t, branch[0]) ? branch[1] : branch[2]);
    return Object.fromEntries(
      Object.entries(o)
        .map(([k, v]) => [k, resolved(t, v)] as const)
        .filter(([, v]) => v !== NO_VALUE),
    );
  }
  return value;
}

/** The resources CloudFormation creates: those without a condition or whose condition is true. */
const deployed = (t: Template): [string, Resource][] =>
  Object.entries(t.Resources).filter(([, r]) => r.Condition === undefined || conditionIsTrue(t, r.Condition));

// ---------------------------------------------------------------------------------------------------------

const resourcesOfType = (type: string, t: Template = template): [string, Resource][] =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type);

const resource = (logicalId: string, t: Template = template): Resource => {
  const r = t.Resources[logicalId];
  if (!r) throw new Error(`no resource ${logicalId} in the template`);
  return r;
};

const asArray = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/** The logical id behind { "Fn::GetAtt": [id, attr] } or { "Ref": id }. */
function refOf(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    return v.Ref ?? v['Fn::GetAtt']?.[0];
  }
  return undefined;
}

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

  it('run the bundled handler on nodejs24.x, arm64, 256 MB, 120 s', () => {
    for (const [, fn] of sentinelFunctions()) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 120,
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

  it('drop late or failed asynchronous deliveries: maximum event age 60 s, no retries', () => {
    const configs = resourcesOfType('AWS::Lambda::EventInvokeConfig');
    for (const [id] of sentinelFunctions()) {
      const config = configs.find(([, c]) => refOf(c.Properties.FunctionName) === id);
      expect(config, `EventInvokeConfig of ${id}`).toBeDefined();
      expect(config?.[1].Properties).toMatchObject({
        MaximumEventAgeInSeconds: 60,
        MaximumRetryAttempts: 0,
        Qualifier: '$LATEST',
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

  it("scopes a sentinel's DynamoDB access to the state table and its logs to its own log group", () => {
    for (const [id, fn] of sentinelFunctions()) {
      const role = resource(refOf(fn.Properties.Role) as string);
      const logGroup = id.replace(/LambdaFunction$/, 'LogGroup');
      for (const s of policyStatements(role)) {
        const actions = asArray(s.Action);
        if (actions.every((a) => a.startsWith('dynamodb:'))) {
          expect(s.Resource).toEqual({ 'Fn::GetAtt': ['StateTable', 'Arn'] });
        } else if (actions.every((a) => a.startsWith('logs:'))) {
          expect(s.Resource).toEqual({ 'Fn::GetAtt': [logGroup, 'Arn'] });
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
    for (const [id, fn] of sentinelFunctions()) {
      // An invocation that never hands over lives until its timeout; one starts every period.
      const alive = Math.floor((fn.Properties.Timeout as number) / period) + 1;
      expect(alive).toBeGreaterThan(2);
      expect(reservedOf(template, id), id).toBe(alive);
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

  it('has the dead-letter queue for the notifier', () => {
    expect(resource('NotifyDeadLetterQueue')).toMatchObject({
      Type: 'AWS::SQS::Queue',
      Properties: { MessageRetentionPeriod: 1209600 },
    });
  });

  it("alarms on each sentinel's stale loop, missing invocations and errors, to the alert topic", () => {
    const alarms = resourcesOfType('AWS::CloudWatch::Alarm');
    for (const [id, fn] of sentinelFunctions()) {
      const sentinel = envOf(fn).SENTINEL_ID as string;
      const stale = alarms.find(
        ([, a]) =>
          a.Properties.MetricName === 'LoopTicks' &&
          (a.Properties.Dimensions as { Value: unknown }[])[0]?.Value === sentinel,
      );
      expect(stale?.[1].Properties).toMatchObject({
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
      for (const metric of ['Invocations', 'Errors']) {
        const alarm = alarms.find(
          ([, a]) =>
            a.Properties.MetricName === metric &&
            refOf((a.Properties.Dimensions as { Value: unknown }[])[0]?.Value) === id,
        );
        expect(alarm, `${metric} alarm of ${id}`).toBeDefined();
      }
    }
  });

  it('sends the alarms about the alert path and the faults to the ops alarm topic, every other one to the alert topic', () => {
    // The dead letters, the notifier and the Slack subscriber: when they fire, the alert topic may be
    // what failed, so they take the other path. Faults are for the operators too.
    const OPS_ALARMS = [
      'NotifyDeadLetterAlarm',
      'NotifyErrorsAlarm',
      'NotifyIteratorAgeAlarm',
      'SlackErrorsAlarm',
      'SentinelFaultsAlarm',
    ];
    const alarms = resourcesOfType('AWS::CloudWatch::Alarm');
    expect(alarms.map(([id]) => id)).toEqual(expect.arrayContaining(OPS_ALARMS));
    for (const [id, alarm] of alarms) {
      const topic = OPS_ALARMS.includes(id) ? 'OpsAlarmTopic' : 'AlertTopic';
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topic }]);
      if (alarm.Properties.OKActions !== undefined) {
        expect(alarm.Properties.OKActions, id).toEqual([{ Ref: topic }]);
      }
    }
  });

  /** pattern → metric name, of the metric filters on one log group. */
  const filtersOf = (logGroup: string): Record<string, unknown> =>
    Object.fromEntries(
      resourcesOfType('AWS::Logs::MetricFilter')
        .filter(([, f]) => refOf(f.Properties.LogGroupName) === logGroup)
        .map(([, f]) => {
          const [metric] = f.Properties.MetricTransformations as { MetricName: string }[];
          return [f.Properties.FilterPattern, metric?.MetricName];
        }),
    );

  it("counts healthy loop ticks, +try-failover, -failover-abort-* and faults from each sentinel's JSON log records", () => {
    for (const [id] of sentinelFunctions()) {
      expect(filtersOf(id.replace(/LambdaFunction$/, 'LogGroup'))).toEqual({
        // A tick in which a master's tick failed is not a healthy one: the loop-stale alarm sees it.
        '{ $.tick > 0 && $.failedMasters = 0 }': 'LoopTicks',
        '{ $.event = "+try-failover" }': 'FailoverStarted',
        '{ $.event = "-failover-abort-*" }': 'FailoverAborted',
        '{ $.failedMasters > 0 }': 'SentinelFaults',
        '{ $.fault = "event-dropped" || $.fault = "loop-failed" || $.fault = "failover-crashed" || $.fault = "handover-state-invalid" }':
          'SentinelFaults',
      });
    }
    expect(filtersOf('FailoverLogGroup')).toEqual({
      '{ $.event = "+try-failover" }': 'FailoverStarted',
      '{ $.event = "-failover-abort-*" }': 'FailoverAborted',
      '{ $.fault = "event-dropped" || $.fault = "loop-failed" || $.fault = "failover-crashed" || $.fault = "handover-state-invalid" }':
        'SentinelFaults',
    });
    const names = resourcesOfType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties.MetricName);
    expect(names).toEqual(expect.arrayContaining(['FailoverStarted', 'FailoverAborted']));
  });

  it('faults feed one metric without dimensions, with one alarm that fires on the first fault', () => {
    const faultFilters = resourcesOfType('AWS::Logs::MetricFilter').filter(([, f]) =>
      (f.Properties.MetricTransformations as { MetricName: string }[]).some(
        (m) => m.MetricName === 'SentinelFaults',
      ),
    );
    expect(faultFilters).toHaveLength(3 * 2 + 1);
    for (const [id, f] of faultFilters) {
      expect(f.Properties.MetricTransformations, id).toEqual([
        {
          MetricNamespace: 'lambda-sentinel/ci',
          MetricName: 'SentinelFaults',
          MetricValue: '1',
          Unit: 'Count',
        },
      ]);
    }
    const alarms = resourcesOfType('AWS::CloudWatch::Alarm').filter(
      ([, a]) => a.Properties.MetricName === 'SentinelFaults',
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.[1].Properties).toMatchObject({
      Namespace: 'lambda-sentinel/ci',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarms[0]?.[1].Properties.Dimensions).toBeUndefined();
  });

  it('the fixed CloudWatch cost in docs/deploy.md counts the alarms and custom metrics the template creates', () => {
    const alarms = deployed(template).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm').length;
    // A custom metric is a name with one set of dimension values: LoopTicks has one per sentinel.
    const metrics = new Set(
      resourcesOfType('AWS::Logs::MetricFilter').flatMap(([, f]) =>
        (f.Properties.MetricTransformations as { MetricName: string; Dimensions?: unknown[] }[]).map((m) =>
          m.Dimensions === undefined
            ? m.MetricName
            : `${m.MetricName} per ${refOf(f.Properties.LogGroupName)}`,
        ),
      ),
    );
    const docs = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    const cost = /\*\*CloudWatch, fixed\*\*: (\d+) alarms × \$0\.10 \+ (\d+) log metrics × \$0\.30/.exec(
      docs,
    );
    expect(cost, 'the "CloudWatch, fixed" line of docs/deploy.md').not.toBeNull();
    expect([Number(cost?.[1]), Number(cost?.[2])]).toEqual([alarms, metrics.size]);
  });

  it('has a dashboard whose body is valid JSON', () => {
    const body = resource('Dashboard').Properties.DashboardBody as { 'Fn::Sub': string };
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
