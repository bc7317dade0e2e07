import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The README's TypeScript blocks are compiled as written, under strict TypeScript, against the built
// package (its exports map and .d.ts files), as a user who copies them would.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
// What the blocks leave to the reader's own program.
const PRELUDE = 'declare function reload(files: readonly string[]): Promise<void>;\n';

const blocks = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
const tmp = mkdtempSync(join(tmpdir(), 'restartd-readme-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the README's code", () => {
  it('has TypeScript blocks', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  it('type-checks as written under strict TypeScript, against the built package', async () => {
    mkdirSync(join(tmp, 'node_modules', '@types'), { recursive: true });
    symlinkSync(ROOT, join(tmp, 'node_modules', 'restartd'));
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(tmp, 'node_modules', '@types', 'node'));
    writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
    const files = blocks.map((code, i) => {
      const file = `block-${i + 1}.ts`;
      writeFileSync(join(tmp, file), `${PRELUDE}${code}\nexport {};\n`);
      return file;
    });
    const compilerOptions = { strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2023', lib: ['ES2023'], types: ['node'], noEmit: true, skipLibCheck: true };
    writeFileSync(join(tmp, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
    const result = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, [TSC, '-p', tmp], (error, stdout, stderr) => resolve({ code: error ? 1 : 0, out: stdout + stderr }));
    });
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);
});
