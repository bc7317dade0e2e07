import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ParallelScan from '../src/scan/parallel-scan.js';
import type * as Scan from '../src/scan/scan-processes.js';
import type * as Detect from '../src/detect.js';
import { startWorkload, type Workload } from '../testkit/workload.mjs';

// The worker thread runs built code: load the dist/ modules (scripts/test builds first).
const parallel = (await import(new URL('../dist/scan/parallel-scan.js', import.meta.url).href)) as typeof ParallelScan;
const single = (await import(new URL('../dist/scan/scan-processes.js', import.meta.url).href)) as typeof Scan;
const detect = (await import(new URL('../dist/detect.js', import.meta.url).href)) as typeof Detect;

describe('two-thread scan', () => {
  let w: Workload;
  beforeAll(async () => {
    w = await startWorkload({ root: `/srv/restartd-test-par-${randomBytes(3).toString('hex')}`, procs: 40, mode: 'inplace' });
    await w.switch();
  });
  afterAll(async () => {
    await w?.cleanup();
  });

  it('gives the same images as the single-threaded scan', async () => {
    const pids = w.processes.map((p) => p.pid);
    const one = single.scanHeldFiles({ pids });
    const two = await parallel.scanHeldFilesParallel({ pids, parallel: true });
    expect(two.processes.map((p) => p.pid)).toEqual(pids.slice().sort((a, b) => a - b));
    expect(two.processes).toEqual(one.processes);
    expect(two.vanished).toBe(0);
    expect(two.self).toEqual(one.self);
  });

  it('detects the same stale processes, files and owners when each thread matches what it scans', async () => {
    const pids = w.processes.map((p) => p.pid);
    const one = await detect.detectStale({ pids, parallel: false });
    const two = await detect.detectStale({ pids, parallel: true });
    expect(two.stale.map((p) => p.pid)).toEqual(w.processes.filter((p) => p.stale).map((p) => p.pid).sort((a, b) => a - b));
    expect(two.stale).toEqual(one.stale);
    expect(two.scan.processes).toEqual(one.scan.processes);
    expect(two.scan.unreadable).toEqual(one.scan.unreadable);
    expect(two.stale.every((p) => p.uid >= 0 && p.owner.kind !== 'kernel-thread')).toBe(true);
  });

  it('falls back to one thread below the threshold in auto mode, with the same result', async () => {
    const pids = w.processes.map((p) => p.pid).slice(0, 5);
    expect(pids.length).toBeLessThan(parallel.PARALLEL_MIN_PIDS);
    expect((await parallel.scanHeldFilesParallel({ pids })).processes).toEqual(single.scanHeldFiles({ pids }).processes);
  });
});
