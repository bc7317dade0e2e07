import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkload, type Workload, type WorkloadMode, type Topology } from '../testkit/workload.mjs';
import type { StaleReport } from '../src/report/stale-json.js';
import { runCli } from './support/cli.js';
import { randomBytes } from 'node:crypto';

interface Case {
  mode: WorkloadMode;
  topology: Topology;
  procs: number;
  cleanRatio: number;
}

const cases: Case[] = [
  { mode: 'inplace', topology: 'tree', procs: 14, cleanRatio: 0.3 },
  { mode: 'inplace', topology: 'flat', procs: 8, cleanRatio: 0.25 },
  { mode: 'nix', topology: 'tree', procs: 14, cleanRatio: 0.3 },
  { mode: 'nix', topology: 'flat', procs: 8, cleanRatio: 0.25 },
  { mode: 'dir', topology: 'tree', procs: 14, cleanRatio: 0.3 },
];

/** The workload's own view: pid -> sorted stale paths, for every workload process. */
function truth(w: Workload): Map<number, string[]> {
  return new Map(w.processes.map((p) => [p.pid, p.stale ? [...p.reasons].sort() : []]));
}

/** restartd's view restricted to the workload's processes. */
function found(w: Workload, report: StaleReport): Map<number, string[]> {
  const byPid = new Map(report.stale.map((p) => [p.pid, p.files.map((f) => f.path).sort()]));
  return new Map(w.processes.map((p) => [p.pid, byPid.get(p.pid) ?? []]));
}

function planArgs(w: Workload): string[] {
  const g = w.generations;
  return ['plan', '--old', g.old, '--new', g.new, '--source', g.source, ...(g.storeDir ? ['--store-dir', g.storeDir] : []), '--json'];
}

describe.each(cases)('$mode switch, $topology topology', ({ mode, topology, procs, cleanRatio }) => {
  let w: Workload;

  beforeAll(async () => {
    w = await startWorkload({ root: `/srv/restartd-test-${mode}-${topology}-${randomBytes(3).toString('hex')}`, procs, mode, topology, cleanRatio });
  });
  afterAll(async () => {
    await w?.cleanup();
  });

  it('nothing in the workload is stale before the switch', async () => {
    const run = await runCli(planArgs({ ...w, generations: { ...w.generations, new: w.generations.old } } as Workload));
    // Other stale processes on this machine (not the workload's) may make the planner warn (no unit facts, a user's manager not running).
    expect(run.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('restartd: warning: '))).toEqual([]);
    const report = JSON.parse(run.stdout) as StaleReport;
    const pids = new Set(w.processes.map((p) => p.pid));
    expect(report.stale.filter((p) => pids.has(p.pid))).toEqual([]);
  });

  it('after the switch, plan finds exactly the stale processes and files of the ground truth', async () => {
    await w.switch();
    const expected = truth(w);
    expect([...expected.values()].some((files) => files.length > 0)).toBe(true);
    expect([...expected.values()].some((files) => files.length === 0)).toBe(true);
    const run = await runCli(planArgs(w));
    expect(run.code).toBe(1);
    expect(found(w, JSON.parse(run.stdout) as StaleReport)).toEqual(expected);
  });

  it('status (no generations) finds in-place switches from deletions alone, and nothing where no file was deleted', async () => {
    const run = await runCli(['status', '--json']);
    const report = JSON.parse(run.stdout) as StaleReport;
    const expected = mode === 'inplace' ? truth(w) : new Map(w.processes.map((p) => [p.pid, []]));
    expect(found(w, report)).toEqual(expected);
  });
});
