import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LinkFollower } from '../src/watch/link-follower.js';

// A real `current` symlink under /srv, flipped the way deploy tools do (rename over), and real chokidar.
let root: string;
let follower: LinkFollower | undefined;
const dir = (v: number): string => join(root, 'releases', `v${v}`);
const current = (): string => join(root, 'current');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function flip(v: number): void {
  const next = `${current()}.next`;
  symlinkSync(`releases/v${v}`, next);
  renameSync(next, current());
}

async function follow(): Promise<{ runs: [string, string][]; errors: [string, string][]; follower: LinkFollower }> {
  const runs: [string, string][] = [];
  const errors: [string, string][] = [];
  follower = new LinkFollower({
    link: current(),
    debounceMs: 300,
    run: async (old, next) => {
      if (!existsSync(old)) throw new Error(`old generation ${old} is gone`);
      runs.push([old, next]);
    },
  });
  follower.on('run:error', (old, next) => errors.push([old, next]));
  await follower.start();
  return { runs, errors, follower };
}

/** Waits for the debounce to settle and the runs to finish. */
async function settled(f: LinkFollower): Promise<void> {
  await sleep(700);
  await f.idle();
}

beforeEach(() => {
  root = mkdtempSync('/srv/restartd-test-watch-');
  for (let v = 1; v <= 9; v++) mkdirSync(dir(v), { recursive: true });
  symlinkSync('releases/v1', current());
});

afterEach(async () => {
  await follower?.close();
  follower = undefined;
  rmSync(root, { recursive: true, force: true });
});

describe('LinkFollower on a release dir', () => {
  it('5 flips in 200 ms are one switch: one run, from the first target to the final one', async () => {
    const { runs, follower: f } = await follow();
    const settledEvents: [string, string][] = [];
    f.on('switch:settled', (old, next) => settledEvents.push([old, next]));
    for (const v of [2, 3, 4, 5, 6]) {
      flip(v);
      await sleep(40);
    }
    await settled(f);
    expect(runs).toEqual([[dir(1), dir(6)]]);
    expect(settledEvents).toEqual([[dir(1), dir(6)]]);
  });

  it('survives the link deleted and recreated, and a flip back and forth that settles where it was', async () => {
    const { runs, follower: f } = await follow();
    const missing: string[] = [];
    f.on('link:missing', (path) => missing.push(path));
    unlinkSync(current());
    await settled(f);
    expect(missing).toEqual([current()]);
    symlinkSync('releases/v2', current());
    await settled(f);
    flip(3);
    flip(2);
    await settled(f);
    expect(runs).toEqual([[dir(1), dir(2)]]);
  });

  it('survives its target directory vanishing: nothing runs until the link points at a directory again', async () => {
    const { runs, errors, follower: f } = await follow();
    flip(2);
    await settled(f);
    rmSync(dir(2), { recursive: true });
    // Dangling now: a flip to another vanished dir settles on nothing.
    flip(9);
    rmSync(dir(9), { recursive: true });
    await settled(f);
    flip(3);
    await settled(f);
    // The previous generation is gone: that run fails, and the follower goes on.
    expect(errors).toEqual([[dir(2), dir(3)]]);
    flip(4);
    await settled(f);
    expect(runs).toEqual([[dir(1), dir(2)], [dir(3), dir(4)]]);
  });
});
