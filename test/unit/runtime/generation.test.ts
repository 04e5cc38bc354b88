import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deploymentGeneration } from '../../../lib/runtime/generation.js';

const dir = mkdtempSync(join(tmpdir(), 'ls-generation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bundle = join(dir, 'sentinel.mjs');
const conf = join(dir, 'sentinel.conf');
writeFileSync(bundle, 'export const handler = 1;\n');
writeFileSync(conf, 'sentinel monitor mymaster 10.0.0.1 6379 2\n');

const base: NodeJS.ProcessEnv = {
  TABLE_NAME: 'lambda-sentinel-prod',
  SENTINEL_CONFIG_FILE: conf,
  POWERTOOLS_LOG_LEVEL: 'INFO',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
  AWS_ACCESS_KEY_ID: 'ASIA-one-container',
  AWS_SECRET_ACCESS_KEY: 'secret-one-container',
  AWS_SESSION_TOKEN: 'token-one-container',
  AWS_LAMBDA_LOG_STREAM_NAME: '2026/12/05/[$LATEST]aaaa',
  _X_AMZN_TRACE_ID: 'Root=1-aaaa',
};

describe('deploymentGeneration', () => {
  it('is the same for two containers of one deployment (credentials, log stream and trace differ)', () => {
    const other = {
      ...base,
      AWS_ACCESS_KEY_ID: 'ASIA-another',
      AWS_SECRET_ACCESS_KEY: 'secret-another',
      AWS_SESSION_TOKEN: 'token-another',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/12/05/[$LATEST]bbbb',
      _X_AMZN_TRACE_ID: 'Root=1-bbbb',
    };
    expect(deploymentGeneration(base, [bundle, conf])).toBe(deploymentGeneration(other, [bundle, conf]));
    expect(deploymentGeneration(base, [bundle, conf])).toMatch(/^[0-9a-f]{16}$/);
  });

  it('changes with the code, the shipped configuration, a parameter in the environment, or the memory size', () => {
    const before = deploymentGeneration(base, [bundle, conf]);
    expect(deploymentGeneration({ ...base, POWERTOOLS_LOG_LEVEL: 'DEBUG' }, [bundle, conf])).not.toBe(before);
    expect(
      deploymentGeneration({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '192' }, [bundle, conf]),
    ).not.toBe(before);
    expect(
      deploymentGeneration({ ...base, SENTINEL_CONFIG: 'sentinel monitor m 10.0.0.2 6379 2' }, [bundle]),
    ).not.toBe(deploymentGeneration(base, [bundle]));
    writeFileSync(conf, 'sentinel monitor mymaster 10.0.0.1 6379 3\n');
    expect(deploymentGeneration(base, [bundle, conf])).not.toBe(before);
    writeFileSync(bundle, 'export const handler = 2;\n');
    const newCode = deploymentGeneration(base, [bundle, conf]);
    expect(newCode).not.toBe(before);
    // A file that cannot be read counts by its name: still a stable label.
    expect(deploymentGeneration(base, [join(dir, 'missing')])).toBe(
      deploymentGeneration(base, [join(dir, 'missing')]),
    );
  });
});
