import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectStale } from '../src/detect.js';
import type { StaleReport } from '../src/report/stale-json.js';
import { runCli } from './support/cli.js';
import { APPS, LAYOUT, rewriteInPlace, sleep, startApp, stopApps, writeApps, type RunningApp } from './support/interp-apps.js';
import { scratchRoot } from './support/scratch.js';

/**
 * Payloads that write a line to `marker` when run by any process but the target itself (the target
 * learns its pid as HOSTILE_SELF): what needrestart's CVE-2024-48990/-48992 let an attacker do
 * by having the scanner run the target's interpreter with the target's environment.
 */
function writePayloads(dir: string, marker: string): NodeJS.ProcessEnv {
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/sitecustomize.py`, `import os\nif str(os.getpid()) != os.environ.get('HOSTILE_SELF'):\n    open(${JSON.stringify(marker)}, 'a').write('python %d\\n' % os.getpid())\n`);
  writeFileSync(`${dir}/Evil.pm`, `package Evil;\nif (($ENV{HOSTILE_SELF} // '') ne $$) { open(my $f, '>>', '${marker}') or die; print $f "perl $$\\n"; close $f; }\n1;\n`);
  writeFileSync(`${dir}/payload.cjs`, `if (String(process.pid) !== process.env.HOSTILE_SELF) require('fs').appendFileSync(${JSON.stringify(marker)}, 'node ' + process.pid + '\\n');\n`);
  writeFileSync(`${dir}/payload.sh`, `[ "$$" != "$HOSTILE_SELF" ] && echo "bash $$" >> '${marker}'\n`);
  writeFileSync(`${dir}/payload.rb`, `File.write(${JSON.stringify(marker)}, "ruby #{Process.pid}\\n", mode: 'a') if Process.pid.to_s != ENV['HOSTILE_SELF']\n`);
  return {
    PYTHONPATH: dir,
    PERL5LIB: dir,
    PERL5OPT: '-MEvil',
    NODE_OPTIONS: `--require ${dir}/payload.cjs`,
    BASH_ENV: `${dir}/payload.sh`,
    RUBYLIB: dir,
    RUBYOPT: `-r${dir}/payload.rb`,
  };
}

const markerLines = (marker: string) => (existsSync(marker) ? readFileSync(marker, 'utf8').trim().split('\n') : []);

describe('a hostile target environment is never executed', () => {
  const scratch = scratchRoot('interp-hostile');
  const root = `${scratch.root}/app`;
  const marker = `${scratch.root}/marker`;
  let hostile: NodeJS.ProcessEnv;
  let apps: RunningApp[] = [];

  beforeAll(async () => {
    hostile = { ...process.env, ...writePayloads(`${scratch.root}/evil`, marker) };
    delete hostile.HOSTILE_SELF;
    writeApps(root, 'v1');
  });
  afterAll(() => {
    stopApps(apps);
    scratch.remove();
  });

  it('control: each payload does write the marker when its interpreter runs with that environment', () => {
    for (const [cmd, args] of [
      ['/usr/bin/python3', ['-c', 'pass']],
      ['/usr/bin/perl', ['-e', '1']],
      [process.execPath, ['-e', '0']],
      ['/usr/bin/bash', ['-c', 'true']],
    ] as const) {
      const run = spawnSync(cmd, args, { env: hostile, encoding: 'utf8' });
      expect(run.status, `${cmd}: ${run.stderr}`).toBe(0);
    }
    expect(markerLines(marker).map((line) => line.split(' ')[0])).toEqual(['python', 'perl', 'node', 'bash']);
    rmSync(marker);
  });

  it('targets running with it stay quiet themselves (the payloads spare their own pid)', async () => {
    apps = await Promise.all(APPS.map((app) => startApp(app, root, hostile)));
    await sleep(2300);
    for (const app of APPS) rewriteInPlace(`${root}/${LAYOUT[app].module}`, '# switched\n');
    expect(existsSync(marker)).toBe(false);
  });

  it('detectStale finds them stale and runs nothing of theirs', async () => {
    const { stale, scan } = await detectStale({ pids: apps.map((a) => a.pid) });
    expect(scan.interp?.processes).toBe(APPS.length);
    expect(stale.map((p) => p.pid).sort()).toEqual(apps.map((a) => a.pid).sort());
    for (const p of stale) expect(p.files.map((f) => f.kind)).toEqual(['modified-after-start']);
    expect(markerLines(marker)).toEqual([]);
  });

  it('the CLI (`restartd status --json`, whole system) finds them stale and runs nothing of theirs', async () => {
    const run = await runCli(['status', '--json']);
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout) as StaleReport;
    const found = new Map(report.stale.map((p) => [p.pid, p.files.map((f) => [f.path, f.kind, f.via])]));
    for (const { app, pid } of apps) expect(found.get(pid), app).toEqual([[`${root}/${LAYOUT[app].module}`, 'modified-after-start', 'script']]);
    expect(markerLines(marker)).toEqual([]);
  });
});
