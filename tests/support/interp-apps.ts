import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The interpreted programs the tests run: each imports one module of its own at start. */
export type AppName = 'python' | 'python-m' | 'perl' | 'node' | 'bash';
export const APPS: readonly AppName[] = ['python', 'python-m', 'perl', 'node', 'bash'];

export interface AppLayout {
  /** The program file, relative to the generation root. */
  script: string;
  /** A module the program loads at start (python import, perl `use lib` + use, node require, bash source). */
  module: string;
}

export const LAYOUT: Record<AppName, AppLayout> = {
  python: { script: 'py-app/main.py', module: 'py-app/helper.py' },
  'python-m': { script: 'pkgapp/__main__.py', module: 'pkgapp/util.py' },
  perl: { script: 'perl-app/main.pl', module: 'perl-lib/Helper.pm' },
  node: { script: 'node-app/main.js', module: 'node-app/lib/helper.js' },
  bash: { script: 'sh-app/run.sh', module: 'sh-app/lib.sh' },
};

/** Source files outside every program's tree, one per language. */
export const UNRELATED = ['other/notes.py', 'other/Tool.pm', 'other/tool.js', 'other/tool.sh'];

function files(version: string): Record<string, string> {
  return {
    'py-app/main.py': `import time\nimport helper\nprint('ready', flush=True)\ntime.sleep(100000)\n# ${version}\n`,
    'py-app/helper.py': `VERSION = '${version}'\n`,
    'pkgapp/__init__.py': '',
    'pkgapp/__main__.py': `import time\nfrom pkgapp import util\nprint('ready', flush=True)\ntime.sleep(100000)\n# ${version}\n`,
    'pkgapp/util.py': `VERSION = '${version}'\n`,
    'perl-app/main.pl': `use strict;\nuse warnings;\nuse FindBin;\nuse lib "$FindBin::Bin/../perl-lib";\nuse Helper;\n$| = 1;\nprint "ready\\n";\nsleep 100000;\n# ${version}\n`,
    'perl-lib/Helper.pm': `package Helper;\nour $VERSION = '${version}';\n1;\n`,
    'node-app/package.json': '{ "name": "node-app", "private": true }\n',
    'node-app/main.js': `require('./lib/helper.js');\nconsole.log('ready');\nsetInterval(() => {}, 1 << 30);\n// ${version}\n`,
    'node-app/lib/helper.js': `module.exports = { version: '${version}' };\n`,
    'sh-app/run.sh': `. "$(dirname "$0")/lib.sh"\necho ready\nwhile :; do sleep 1000; done\n# ${version}\n`,
    'sh-app/lib.sh': `VERSION=${version}\n`,
    ...Object.fromEntries(UNRELATED.map((rel) => [rel, `# unrelated ${version}\n`])),
  };
}

/** Writes every app (and the unrelated files) under `root`. */
export function writeApps(root: string, version: string): void {
  for (const [rel, text] of Object.entries(files(version))) {
    mkdirSync(dirname(`${root}/${rel}`), { recursive: true });
    writeFileSync(`${root}/${rel}`, text);
  }
}

/** A file rewritten in place (same inode), as an editor without backup files or `cp` would. */
export function rewriteInPlace(path: string, text: string): void {
  writeFileSync(path, text);
}

/** A file replaced the way dpkg does it: new content under a temporary name, renamed over the old. */
export function replaceByRename(path: string, text: string): void {
  writeFileSync(`${path}.dpkg-new`, text);
  renameSync(`${path}.dpkg-new`, path);
}

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const PERL = existsSync('/usr/bin/perl') ? '/usr/bin/perl' : 'perl';
const BASH = existsSync('/usr/bin/bash') ? '/usr/bin/bash' : 'bash';

/** The command line of an app: a mix of relative (to `root`, the cwd) and absolute program paths. */
export function commandOf(app: AppName, root: string): string[] {
  switch (app) {
    case 'python':
      return [PYTHON, '-u', LAYOUT.python.script];
    case 'python-m':
      return [PYTHON, '-X', 'utf8', '-m', 'pkgapp'];
    case 'perl':
      return [PERL, '-w', `${root}/${LAYOUT.perl.script}`];
    case 'node':
      return [process.execPath, '--no-warnings', LAYOUT.node.script];
    case 'bash':
      return [BASH, `${root}/${LAYOUT.bash.script}`];
  }
}

export interface RunningApp {
  app: AppName;
  pid: number;
  child: ChildProcess;
}

/**
 * Starts an app with `root` as its cwd and waits until it printed "ready" (its modules are
 * loaded). It runs in a process group of its own, so stopApps also ends bash's sleep. The app
 * learns its own pid as HOSTILE_SELF (the wrapper shell execs it, so the pid is the same).
 */
export async function startApp(app: AppName, root: string, env: NodeJS.ProcessEnv = process.env): Promise<RunningApp> {
  const [cmd, ...args] = commandOf(app, root) as [string, ...string[]];
  // /bin/sh, not bash: a non-interactive sh reads no startup file, so a hostile BASH_ENV reaches only the app.
  const child = spawn('/bin/sh', ['-c', 'HOSTILE_SELF=$$; export HOSTILE_SELF; exec "$@"', 'start-app', cmd, ...args], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${app} did not get ready: ${err}`)), 15_000);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${app} exited with ${code}: ${err}`));
    });
  });
  return { app, pid: child.pid as number, child };
}

export function stopApps(apps: readonly RunningApp[]): void {
  for (const { pid } of apps) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
