import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectStale } from '../src/detect.js';
import { diffGenerations } from '../src/generation/index.js';
import type { StaleProcess } from '../src/types/stale.js';
import { LAYOUT, sleep, startApp, stopApps, writeApps, type RunningApp } from './support/interp-apps.js';

// Capistrano-style: apps started through `ROOT/current/...`, then `current` flipped to the next
// release. The path the process was started by now leads into the new release; the process still
// runs the old one.
let root: string;
let current: string;
const started: RunningApp[] = [];
let pythonBefore: ChildProcess;
let stale: StaleProcess[];

async function startPython(script: string): Promise<ChildProcess> {
  const child = spawn('/usr/bin/python3', ['-u', script], { cwd: '/', stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`python exited with ${code}`)));
  });
  return child;
}

function flipTo(version: string): void {
  symlinkSync(`releases/${version}`, `${current}.next`);
  renameSync(`${current}.next`, current);
}

beforeAll(async () => {
  root = mkdtempSync('/srv/restartd-repointed-');
  for (const v of ['v1', 'v2']) {
    mkdirSync(join(root, 'releases', v), { recursive: true });
    writeApps(join(root, 'releases', v), v);
  }
  current = join(root, 'current');
  symlinkSync('releases/v1', current);
  // perl: the program by absolute path through `current`; python the same, from cwd /.
  started.push(await startApp('perl', current));
  pythonBefore = await startPython(join(current, LAYOUT.python.script));
  // The flip must come clearly after the start (the link's ctime dates it).
  await sleep(2600);
  flipTo('v2');
  // Started after the flip: runs v2, which is the new generation: not stale.
  started.push(await startApp('perl', current));
  const changeSet = await diffGenerations(join(root, 'releases', 'v1'), join(root, 'releases', 'v2'));
  stale = (await detectStale({ changeSet })).stale;
}, 30_000);

afterAll(() => {
  stopApps(started);
  if (pythonBefore?.pid !== undefined) process.kill(-pythonBefore.pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('interpreted programs started through a link re-pointed later', () => {
  it('are judged in the release the link named when they started', () => {
    const v1 = join(root, 'releases', 'v1');
    const perl = stale.find((p) => p.pid === started[0]?.pid);
    expect(perl?.files.map((f) => [f.path, f.kind])).toEqual(expect.arrayContaining([[join(v1, LAYOUT.perl.script), 'changed'], [join(v1, LAYOUT.perl.module), 'changed']]));
    const python = stale.find((p) => p.pid === pythonBefore.pid);
    expect(python?.files.map((f) => [f.path, f.kind])).toEqual(expect.arrayContaining([[join(v1, LAYOUT.python.script), 'changed'], [join(v1, LAYOUT.python.module), 'changed']]));
  });

  it('a process started through the link after the flip runs the new release: not stale', () => {
    expect(stale.find((p) => p.pid === started[1]?.pid)).toBeUndefined();
  });
});
