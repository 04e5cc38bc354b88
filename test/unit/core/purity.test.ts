import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const coreDir = join(import.meta.dirname, '../../../lib/core');
const files = readdirSync(coreDir).filter((f) => f.endsWith('.ts'));

describe('lib/core purity', () => {
  it('has files to check', () => {
    expect(files.length).toBeGreaterThan(3);
  });

  it.each(files)(
    '%s reads no clock, draws no random numbers, sets no timers and imports only core modules',
    (file) => {
      const source = readFileSync(join(coreDir, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(source).not.toMatch(/\bDate\.now\b|new Date\(|performance\.now|process\.hrtime/);
      expect(source).not.toMatch(/Math\.random|crypto\.|randomUUID/);
      expect(source).not.toMatch(/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b/);
      expect(source).not.toMatch(/\bprocess\.env\b/);
      for (const [, spec] of source.matchAll(/from\s+'([^']+)'/g)) expect(spec).toMatch(/^\.\/[\w-]+\.js$/);
    },
  );
});
