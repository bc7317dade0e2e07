import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// What `npm pack` ships, and the CLI bundle in a tree without the optional etcd client.
const REPO = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync('/tmp/restartd-test-npm-');

function run(file: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the npm package', () => {
  it('ships the build, the schemas, the examples, README and LICENSE: no tests, sources, maps or tooling', async () => {
    const packed = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], REPO);
    expect(packed.code, packed.stderr).toBe(0);
    const files = (JSON.parse(packed.stdout) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path) ?? [];
    for (const path of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/client.js', 'dist/cli/restartd.js', 'schemas/status.schema.json', 'examples/apt/99restartd']) {
      expect(files).toContain(path);
    }
    const tops = new Set(files.map((f) => f.split('/')[0]));
    expect([...tops].sort()).toEqual(['LICENSE', 'README.md', 'dist', 'examples', 'package.json', 'schemas']);
    // source maps would point at ../src, which is not shipped
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    // and nothing shipped names a map that is not there
    expect(files.filter((f) => f.endsWith('.js') && readFileSync(join(REPO, f), 'utf8').includes('sourceMappingURL='))).toEqual([]);
    // the crash tests' pause is loaded by the tests, never shipped
    expect(files.filter((f) => /test-pause|pause-run/.test(f))).toEqual([]);
    expect(files.filter((f) => /\.test\.|(^|\/)tests?\//.test(f))).toEqual([]);
    // nor a .deb that npm run package:deb left in dist/
    expect(files.filter((f) => f.endsWith('.deb'))).toEqual([]);
    // nor the native scan loop built for this machine: the package is the same on every architecture
    expect(files.filter((f) => f.endsWith('.node') || f.startsWith('dist/native/'))).toEqual([]);
  });

  it('has the etcd client (gRPC, protobufjs) as an optional dependency only', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; optionalDependencies: Record<string, string>; license: string };
    expect(Object.keys(pkg.dependencies)).not.toContain('etcd3');
    expect(Object.keys(pkg.optionalDependencies)).toContain('etcd3');
    expect(readFileSync(join(REPO, 'LICENSE'), 'utf8')).toMatch(new RegExp(`^${pkg.license} License`));
  });

  it('without etcd3 installed, the CLI runs; --fleet says which package it needs', async () => {
    // The bundle with the required modules only (dbus-next, chokidar), as an install without optional ones.
    const tree = join(scratch, 'install');
    mkdirSync(join(tree, 'node_modules'), { recursive: true });
    cpSync(join(REPO, 'dist/cli'), join(tree, 'dist/cli'), { recursive: true });
    cpSync(join(REPO, 'package.json'), join(tree, 'package.json'));
    for (const name of ['dbus-next', 'chokidar']) symlinkSync(join(REPO, 'node_modules', name), join(tree, 'node_modules', name));
    mkdirSync(join(scratch, 'old'));
    mkdirSync(join(scratch, 'new'));
    const cli = join(tree, 'dist/cli/restartd.js');
    const version = await run(process.execPath, [cli, '--version'], '/');
    expect(version.code, version.stderr).toBe(0);
    const fleet = await run(process.execPath, [cli, 'apply', '--fleet', 'http://127.0.0.1:9', '--old', join(scratch, 'old'), '--new', join(scratch, 'new'), '--bus', 'unix:path=/run/restartd-test-none', '--state-dir', join(scratch, 'state')], '/');
    expect(fleet.stderr).not.toMatch(/internal error/);
    expect(fleet.stderr).toMatch(/--fleet needs the etcd client, the npm package 'etcd3'/);
    expect(fleet.code).toBe(3);
  });
});
