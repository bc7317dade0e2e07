import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectStale } from '../src/detect.js';
import { scratchRoot } from './support/scratch.js';
import { exeOf, until } from './support/live-process.js';

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** Each stale process as [pid, [path, kind, new inode]…], sorted. */
async function staleOf(pids: number[]): Promise<Array<[number, Array<[string, string, number | undefined]>]>> {
  const { stale } = await detectStale({ pids, parallel: false });
  // The native scan loop (the default when built) and the TypeScript scan judge namespaces alike.
  expect(stale).toEqual((await detectStale({ pids, parallel: false, native: false })).stale);
  return stale
    .map((p): [number, Array<[string, string, number | undefined]>] => [
      p.pid,
      p.files.map((f): [string, string, number | undefined] => [f.path, f.kind, f.new?.ino]).sort(),
    ])
    .sort((a, b) => a[0] - b[0]);
}

/**
 * A process in a private mount namespace that bind-mounts another directory over the one whose
 * files it maps and holds, next to a host process holding the host's (different) files at the same paths.
 */
describe('each process is judged in its own mount namespace', () => {
  const scratch = scratchRoot('mntns');
  const { root } = scratch;
  const app = `${root}/app`;
  const nsDir = `${root}/ns`;
  const children: ChildProcess[] = [];
  let inNs: number;
  let onHost: number;

  beforeAll(async () => {
    mkdirSync(app);
    mkdirSync(nsDir);
    // Same paths, different files: the host's program differs in its bytes from the namespace's.
    copyFileSync('/bin/sleep', `${app}/prog`);
    appendFileSync(`${app}/prog`, 'host build\n');
    writeFileSync(`${app}/data.dat`, 'host data 1\n');
    copyFileSync('/bin/sleep', `${nsDir}/prog`);
    writeFileSync(`${nsDir}/data.dat`, 'namespace data 1\n');
    const ns = spawn('unshare', ['-m', '--propagation', 'private', 'bash', '-c', `mount --bind "${nsDir}" "${app}" && exec 3<"${app}/data.dat" && exec "${app}/prog" 1000`], {
      stdio: 'ignore',
    });
    const host = spawn('bash', ['-c', `exec 3<"${app}/data.dat" && exec "${app}/prog" 1001`], { stdio: 'ignore' });
    children.push(ns, host);
    inNs = ns.pid!;
    onHost = host.pid!;
    const nsProg = inodeOf(`${nsDir}/prog`);
    await until(
      () => exeOf(inNs) === `${app}/prog` && exeOf(onHost) === `${app}/prog` && inodeOf(`/proc/${inNs}/root${app}/prog`) === nsProg,
      'both programs to run, one with the namespace mounted',
    );
  }, 60_000);

  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    scratch.remove();
  });

  it('nothing is stale: the host copy at the same path does not decide for the namespace', async () => {
    // The mount really hides the host's file from the namespace's process.
    expect(inodeOf(`/proc/${inNs}/root${app}/prog`)).not.toBe(inodeOf(`${app}/prog`));
    expect(await staleOf([inNs, onHost])).toEqual([]);
  });

  it('a file replaced only inside the namespace is found, with the namespace file as the new one', async () => {
    writeFileSync(`${nsDir}/data.dat.new`, 'namespace data 2\n');
    renameSync(`${nsDir}/data.dat.new`, `${nsDir}/data.dat`);
    const nowInNs = inodeOf(`${nsDir}/data.dat`);
    expect(await staleOf([inNs, onHost])).toEqual([[inNs, [[`${app}/data.dat`, 'deleted', nowInNs]]]]);
  });

  it('a file replaced only on the host makes the host process stale and leaves the namespace alone', async () => {
    copyFileSync('/bin/sleep', `${app}/prog.new`);
    appendFileSync(`${app}/prog.new`, 'host build 2\n');
    renameSync(`${app}/prog.new`, `${app}/prog`);
    const nowOnHost = inodeOf(`${app}/prog`);
    expect(await staleOf([inNs, onHost])).toEqual([
      [inNs, [[`${app}/data.dat`, 'deleted', inodeOf(`${nsDir}/data.dat`)]]],
      [onHost, [[`${app}/prog`, 'deleted', nowOnHost]]],
    ].sort((a, b) => (a[0] as number) - (b[0] as number)));
  });
});
