import { execFile } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

export interface Run {
  code: number;
  out: string;
  stdout: string;
}

export function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 300_000, maxBuffer: 64 * 1024 * 1024, ...options }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout + stderr, stdout });
    });
  });
}

async function ok(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  const result = await run(file, args, options);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${result.code}\n${result.out}`);
  return result;
}

/** `npm run package:deb` into OUT (optionally as another version): the .deb's path. */
export async function packageDeb(out: string, version?: string): Promise<string> {
  await ok(process.execPath, [join(REPO, 'scripts/package-deb.mjs'), '--out', out, ...(version === undefined ? [] : ['--version', version])], { cwd: REPO });
  return join(out, `restartd_${version ?? VERSION}_all.deb`);
}

/** A package NAME holding a program at /usr/lib/NAME/demo (a copy of sleep), for apt to install and upgrade. */
export async function demoDeb(dir: string, name: string, version: number): Promise<string> {
  const tree = join(dir, `${name}-${version}`);
  mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
  mkdirSync(join(tree, `usr/lib/${name}`), { recursive: true });
  writeFileSync(join(tree, 'DEBIAN/control'), `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: restartd tests <root@localhost>\nDescription: restartd test program\n`);
  copyFileSync('/bin/sleep', join(tree, `usr/lib/${name}/demo`));
  appendFileSync(join(tree, `usr/lib/${name}/demo`), `\nrestartd-test ${name} v${version}\n`);
  const deb = join(dir, `${name}_${version}_all.deb`);
  await ok('dpkg-deb', ['--build', '--root-owner-group', tree, deb]);
  return deb;
}
