/**
 * The CloudFormation template that `npx sls package` (osls; it builds the bundles) produces, with no AWS
 * credentials, and what of it CloudFormation would deploy. Used by the template test and by the
 * benchmark's cost table (test/infra/cloudwatchCost.ts).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../scripts/build.js';

export type Json = Record<string, unknown>;
export interface Resource {
  readonly Type: string;
  readonly Properties: Json;
  readonly Condition?: string;
  readonly DependsOn?: string | string[];
}
export interface Template {
  readonly Resources: Record<string, Resource>;
  readonly Conditions?: Record<string, unknown>;
  readonly Outputs?: Json;
}

/** osls's command (the devDependency behind `npx sls`), run with this Node. */
const SLS = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');

/** Where `sls package` writes when not told otherwise (and which it empties first). */
export const SERVERLESS_DIR = join(ROOT, '.serverless');

/**
 * Packages the stack for `stage` (which builds the bundles), with `params` as `--param key=value` (as a
 * deploy would pass them), into `packageDir` (default .serverless, which every package empties first),
 * and returns the rendered template. Any AWS credentials of the caller are hidden: packaging must not
 * need an account.
 */
export async function renderTemplate(
  options: { stage?: string; params?: Readonly<Record<string, string>>; packageDir?: string } = {},
): Promise<Template> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_')) env[key] = value;
  }
  env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent';
  env.AWS_CONFIG_FILE = '/nonexistent';
  const params = Object.entries(options.params ?? {}).flatMap(([key, value]) => [
    '--param',
    `${key}=${value}`,
  ]);
  const into = options.packageDir === undefined ? [] : ['--package', options.packageDir];
  // `sls package` itself, as a user types it: the bundles are built while serverless.yml is read.
  await promisify(execFile)(
    process.execPath,
    [SLS, 'package', '--stage', options.stage ?? 'ci', ...into, ...params],
    { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 },
  );
  const dir = options.packageDir ?? SERVERLESS_DIR;
  return JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
}

// ---------------------------------------------------------------------------------------------------------
// Conditions: the parameters are substituted into the template, so every condition compares literals and
// can be evaluated here, the way CloudFormation will.

function literal(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  throw new Error(`not a literal: ${JSON.stringify(value)}`);
}

export function conditionIsTrue(t: Template, name: string): boolean {
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
export function resolved(t: Template, value: unknown): unknown {
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
export const deployed = (t: Template): [string, Resource][] =>
  Object.entries(t.Resources).filter(([, r]) => r.Condition === undefined || conditionIsTrue(t, r.Condition));

/** The logical id behind { "Fn::GetAtt": [id, attr] } or { "Ref": id }. */
export function refOf(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    return v.Ref ?? v['Fn::GetAtt']?.[0];
  }
  return undefined;
}
