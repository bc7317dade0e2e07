import { cpSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectStale } from '../src/detect.js';
import { diffGenerations } from '../src/generation/index.js';
import type { StaleProcess } from '../src/types/stale.js';
import { APPS, LAYOUT, UNRELATED, replaceByRename, rewriteInPlace, sleep, startApp, stopApps, writeApps, type AppName, type RunningApp } from './support/interp-apps.js';
import { scratchRoot } from './support/scratch.js';

type Switch = 'module' | 'unrelated' | 'script';

/** Applies one kind of switch to a tree of apps, the way a package manager or an editor would. */
function applySwitch(root: string, change: Switch): void {
  for (const app of APPS) {
    const { script, module } = LAYOUT[app];
    if (change === 'module') rewriteInPlace(`${root}/${module}`, `${readFileSync(`${root}/${module}`, 'utf8')}\n`);
    if (change === 'script') replaceByRename(`${root}/${script}`, `${readFileSync(`${root}/${script}`, 'utf8')}\n`);
  }
  if (change === 'unrelated') for (const rel of UNRELATED) rewriteInPlace(`${root}/${rel}`, '# changed\n');
}

/** pid -> [path, kind] of its stale files, for the given apps only. */
function staleOf(stale: readonly StaleProcess[], apps: readonly RunningApp[]): Record<string, Array<[string, string]>> {
  const out: Record<string, Array<[string, string]>> = {};
  for (const { app, pid } of apps) {
    const p = stale.find((s) => s.pid === pid);
    out[app] = (p?.files ?? []).map((f) => [f.path, f.kind]);
  }
  return out;
}

function expected(root: string, pick: (app: AppName) => Array<[string, string]>): Record<string, Array<[string, string]>> {
  return Object.fromEntries(APPS.map((app) => [app, pick(app).map(([rel, kind]) => [`${root}/${rel}`, kind])]));
}

describe('interpreted programs switched by a dir generation (ChangeSet)', () => {
  const scratch = scratchRoot('interp-gen');
  const v1 = `${scratch.root}/releases/v1`;
  const next = (change: Switch) => `${scratch.root}/releases/v2-${change}`;
  let apps: RunningApp[] = [];

  beforeAll(async () => {
    writeApps(v1, 'v1');
    for (const change of ['module', 'unrelated', 'script'] as const) {
      cpSync(v1, next(change), { recursive: true });
      applySwitch(next(change), change);
    }
    apps = await Promise.all(APPS.map((app) => startApp(app, v1)));
  });
  afterAll(() => {
    stopApps(apps);
    scratch.remove();
  });

  const detect = async (change: Switch | 'none') => {
    const changeSet = await diffGenerations(v1, change === 'none' ? v1 : next(change), { source: 'dir' });
    return detectStale({ changeSet, pids: apps.map((a) => a.pid) });
  };

  it('nothing is stale when old and new are the same generation', async () => {
    const { stale, scan } = await detect('none');
    expect(stale).toEqual([]);
    expect(scan.interp).toMatchObject({ processes: APPS.length, unresolved: [], capped: [], budgetExceeded: false });
  });

  it('a module the program loads changed: the process is stale, with the module as evidence', async () => {
    const { stale } = await detect('module');
    expect(staleOf(stale, apps)).toEqual(expected(v1, (app) => [[LAYOUT[app].module, 'changed']]));
    const helper = stale.flatMap((p) => p.files).find((f) => f.path === `${v1}/${LAYOUT.python.module}`);
    expect(helper).toEqual({ path: `${v1}/${LAYOUT.python.module}`, kind: 'changed', via: 'script', new: { path: `${next('module')}/${LAYOUT.python.module}` } });
  });

  it('only files outside the programs\' trees changed: nothing is stale', async () => {
    const { stale } = await detect('unrelated');
    expect(staleOf(stale, apps)).toEqual(expected(v1, () => []));
  });

  it('the program file itself was replaced: stale (bash holds its script open, so the fd already shows it)', async () => {
    const { stale } = await detect('script');
    expect(staleOf(stale, apps)).toEqual(expected(v1, (app) => [[LAYOUT[app].script, 'changed']]));
    const vias = Object.fromEntries(apps.map(({ app, pid }) => [app, stale.find((p) => p.pid === pid)?.files[0]?.via]));
    expect(vias).toEqual({ python: 'script', 'python-m': 'script', perl: 'script', node: 'script', bash: 'fd' });
  });
});

describe('interpreted programs changed in place, no generations (modified after start)', () => {
  const scratch = scratchRoot('interp-inplace');
  const rootOf = (change: Switch) => `${scratch.root}/${change}`;
  const running = new Map<Switch, RunningApp[]>();

  beforeAll(async () => {
    for (const change of ['module', 'unrelated', 'script'] as const) {
      writeApps(rootOf(change), 'v1');
      running.set(change, await Promise.all(APPS.map((app) => startApp(app, rootOf(change)))));
    }
    // Past the start-time tolerance (2 s), so a change now is clearly after every start.
    await sleep(2300);
  });
  afterAll(() => {
    for (const apps of running.values()) stopApps(apps);
    scratch.remove();
  });

  const detect = (change: Switch, extra: Parameters<typeof detectStale>[0] = {}) =>
    detectStale({ pids: (running.get(change) ?? []).map((a) => a.pid), ...extra });

  it('nothing is stale before the switch (python\'s own __pycache__ writes do not count)', async () => {
    for (const change of ['module', 'unrelated', 'script'] as const) expect((await detect(change)).stale).toEqual([]);
  });

  it('after the switch: a changed module or program file is modified-after-start; an unrelated change is nothing', async () => {
    for (const change of ['module', 'unrelated', 'script'] as const) applySwitch(rootOf(change), change);
    const at = (change: Switch) => running.get(change) ?? [];

    expect(staleOf((await detect('module')).stale, at('module'))).toEqual(expected(rootOf('module'), (app) => [[LAYOUT[app].module, 'modified-after-start']]));
    expect(staleOf((await detect('unrelated')).stale, at('unrelated'))).toEqual(expected(rootOf('unrelated'), () => []));
    // bash reads its script from an open fd: the renamed-over inode shows as deleted there first.
    expect(staleOf((await detect('script')).stale, at('script'))).toEqual(
      expected(rootOf('script'), (app) => [[LAYOUT[app].script, app === 'bash' ? 'deleted' : 'modified-after-start']]),
    );

    const { stale } = await detect('module');
    const evidence = stale.flatMap((p) => p.files).find((f) => f.path.endsWith(LAYOUT.perl.module));
    expect(evidence).toMatchObject({ via: 'script', kind: 'modified-after-start' });
    expect(evidence?.changedAt).toBeGreaterThan((evidence?.startedAt ?? Infinity) + 2000);
  });

  it('a cap on files per process and a time budget, both reported when hit', async () => {
    const pids = (running.get('module') ?? []).map((a) => a.pid);
    const capped = await detect('module', { interp: { maxFilesPerProcess: 2 } });
    expect(capped.scan.interp?.capped.sort()).toEqual([...pids].sort());
    expect(capped.scan.interp?.filesExamined).toBeLessThanOrEqual(2 * pids.length + pids.length);

    const outOfTime = await detect('module', { interp: { budgetMs: -1 } });
    expect(outOfTime.scan.interp).toMatchObject({ budgetExceeded: true, processes: 0 });
    expect(outOfTime.scan.interp?.skipped.sort()).toEqual([...pids].sort());
    expect(outOfTime.stale).toEqual([]);
  });
});
