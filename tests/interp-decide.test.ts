import { describe, expect, it } from 'vitest';
import type { ChangeSet } from '../src/types/generation.js';
import { indexChangesByDir } from '../src/interp/changeset-dirs.js';
import { parseCmdline } from '../src/scan/cmdline.js';
import { judgeScriptFiles } from '../src/interp/judge-script.js';
import { withScriptFiles } from '../src/interp/merge-stale.js';
import { perlLibDirs } from '../src/interp/perl-lib-dirs.js';
import { parseBootTime, parseClockTicks } from '../src/interp/process-clock.js';
import { distinctTrees, isSharedDir, isSourceFile, programTreeOf } from '../src/interp/program-tree.js';
import { pythonSearchDirs, resolvePythonModule, type PathView } from '../src/interp/python-module.js';
import { indexChangeSet } from '../src/match/changeset-index.js';
import type { StaleFile } from '../src/types/stale.js';

/** A PathView over a list of files (their parent dirs exist too). */
function viewOf(files: string[]): PathView {
  const dirs = new Set<string>();
  for (const f of files) for (let d = f.slice(0, f.lastIndexOf('/')); d !== ''; d = d.slice(0, d.lastIndexOf('/'))) dirs.add(d);
  return {
    kind: (p) => (files.includes(p) ? 'file' : dirs.has(p) ? 'dir' : undefined),
    list: (dir) => [...new Set([...files, ...dirs].filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1).split('/')[0] as string))],
  };
}

describe('python -m, resolved from files', () => {
  const view = viewOf([
    '/usr/bin/python3.11',
    '/usr/lib/python3.11/http/__init__.py',
    '/usr/lib/python3.11/http/server.py',
    '/usr/lib/python3.11/json/__init__.py',
    '/usr/lib/python3.11/lib-dynload/_json.so',
    '/usr/lib/python3/dist-packages/pip/__init__.py',
    '/usr/lib/python3/dist-packages/pip/__main__.py',
    '/usr/lib/python3/dist-packages/six.py',
    '/usr/local/lib/python3.11/dist-packages/tool/__main__.py',
    '/srv/app/.venv/pyvenv.cfg',
    '/srv/app/.venv/bin/python',
    '/srv/app/.venv/lib/python3.11/site-packages/svc/__init__.py',
    '/srv/app/.venv/lib/python3.11/site-packages/svc/__main__.py',
    '/srv/app/src/myapp/__init__.py',
    '/srv/app/src/myapp/__main__.py',
    '/srv/app/src/myapp/cli/__init__.py',
    '/srv/app/src/myapp/cli/run.py',
    '/srv/app/src/six.py',
  ]);

  it('search path: cwd, then the prefix of the exe (stdlib, lib-dynload, Debian dist-packages), and a venv found from argv[0]', () => {
    expect(pythonSearchDirs({ exe: '/usr/bin/python3.11', cwd: '/srv/app/src' }, view)).toEqual([
      '/srv/app/src',
      '/usr/lib/python3.11',
      '/usr/lib/python3.11/lib-dynload',
      '/usr/local/lib/python3.11/dist-packages',
      '/usr/lib/python3/dist-packages',
    ]);
    expect(pythonSearchDirs({ exe: '/usr/bin/python3.11', argv0: '.venv/bin/python', cwd: '/srv/app' }, view)).toContain('/srv/app/.venv/lib/python3.11/site-packages');
  });

  const dirs = pythonSearchDirs({ exe: '/usr/bin/python3.11', argv0: '/srv/app/.venv/bin/python', cwd: '/srv/app/src' }, view);
  it.each([
    ['http.server', { file: '/usr/lib/python3.11/http/server.py', packageDir: '/usr/lib/python3.11/http' }],
    ['pip', { file: '/usr/lib/python3/dist-packages/pip/__main__.py', packageDir: '/usr/lib/python3/dist-packages/pip' }],
    ['svc', { file: '/srv/app/.venv/lib/python3.11/site-packages/svc/__main__.py', packageDir: '/srv/app/.venv/lib/python3.11/site-packages/svc' }],
    ['myapp', { file: '/srv/app/src/myapp/__main__.py', packageDir: '/srv/app/src/myapp' }],
    ['myapp.cli.run', { file: '/srv/app/src/myapp/cli/run.py', packageDir: '/srv/app/src/myapp' }],
    // The cwd comes first: a module there shadows the installed one, as it would for python itself.
    ['six', { file: '/srv/app/src/six.py' }],
    ['tool', { file: '/usr/local/lib/python3.11/dist-packages/tool/__main__.py', packageDir: '/usr/local/lib/python3.11/dist-packages/tool' }],
  ])('-m %s', (name, expected) => {
    expect(resolvePythonModule(name, dirs, view)).toEqual(expected);
  });

  it.each(['json', 'nothere', 'http.nothere', '../etc/passwd', 'os.path/x', ''])('-m %j is not resolved', (name) => {
    expect(resolvePythonModule(name, dirs, view)).toBeUndefined();
  });
});

describe('the program tree', () => {
  const isFile = (files: string[]) => (p: string) => files.includes(p);
  it.each([
    ['python', '/srv/rel/v1/app/main.py', [], '/srv/rel/v1/app'],
    ['perl', '/opt/tool/bin/tool.pl', [], '/opt/tool'],
    ['python', '/usr/bin/foo', [], undefined],
    ['python', '/usr/local/bin/foo', [], undefined],
    ['shell', '/root/backup.sh', [], undefined],
    ['shell', '/home/alice/bin/x.sh', [], undefined],
    ['shell', '/etc/init.d/foo', [], undefined],
    ['python', '/usr/share/foo/foo.py', [], '/usr/share/foo'],
    ['node', '/srv/app/dist/cli/main.js', ['/srv/app/package.json'], '/srv/app'],
    ['node', '/srv/app/dist/cli/main.js', [], '/srv/app/dist/cli'],
    ['node', '/usr/lib/node_modules/npm/bin/npm-cli.js', ['/usr/lib/node_modules/npm/package.json'], '/usr/lib/node_modules/npm'],
  ] as const)('%s %s (package.json at %j) -> %s', (family, file, files, tree) => {
    expect(programTreeOf(family, file, isFile([...files]))).toBe(tree);
  });

  it('shared dirs are never walked, nested trees collapse into the outer one', () => {
    expect(['/', '/usr', '/usr/lib', '/home/bob', '/usr/lib/python3/dist-packages', '/srv/x/node_modules', '/usr/share/perl5'].filter(isSharedDir)).toHaveLength(7);
    expect(['/srv/app', '/opt/app', '/root/project', '/usr/share/foo'].some(isSharedDir)).toBe(false);
    expect(distinctTrees(['/srv/app/lib', undefined, '/srv/app', '/usr/lib', '/srv/other'])).toEqual(['/srv/app', '/srv/other']);
  });

  it('source files per interpreter; JSON only when a ChangeSet names it', () => {
    expect(isSourceFile('python', 'helper.py')).toBe(true);
    expect(isSourceFile('python', 'data.txt')).toBe(false);
    expect(isSourceFile('perl', 'Helper.pm')).toBe(true);
    expect(isSourceFile('node', 'config.json')).toBe(false);
    expect(isSourceFile('node', 'config.json', true)).toBe(true);
  });
});

describe('perl `use lib`, read as text', () => {
  it.each([
    [`use lib 'lib';`, ['lib']],
    [`use lib "$FindBin::Bin/../lib";`, ['/srv/app/bin/../lib']],
    [`use FindBin qw($Bin);\nuse lib "$Bin/lib", '/opt/x';`, ['/srv/app/bin/lib', '/opt/x']],
    [`use lib $FindBin::RealBin . '/lib';`, ['/srv/app/bin/lib']],
    [`use lib qw(/a /b);`, ['/a', '/b']],
    [`use lib "$ENV{HOME}/lib";`, []],
    [`use lib get_dirs();`, []],
    [`# use lib 'commented';\nprint "use lib 'no';";`, []],
    [`__END__\nuse lib 'after-end';`, []],
  ])('%j', (source, dirs) => {
    expect(perlLibDirs(source, '/srv/app/bin')).toEqual(dirs);
  });
});

describe('judging script files', () => {
  const start = 1_000_000_000_000;
  const times = new Map<string, number | null>([
    ['/srv/app/main.py', start - 60_000],
    ['/srv/app/helper.py', start + 30_000],
    ['/srv/app/just-after.py', start + 1_000],
    ['/srv/app/gone.py', null],
    ['/srv/app', start - 60_000],
    ['/usr/lib/foo/up.py', start - 60_000],
    ['/usr/lib/foo/late.py', start + 60_000],
    ['/usr/lib/foo', start + 60_000],
    ['/usr/lib/bar', start - 60_000],
  ]);
  const changedAtOf = (p: string) => times.get(p) ?? null;
  const base = { startedAtMs: start, toleranceMs: 2000, changedAtOf };

  it('without a ChangeSet: changed after start beyond the tolerance; a missing absolute program is deleted', () => {
    const files = judgeScriptFiles({ ...base, paths: ['/srv/app/main.py', '/srv/app/helper.py', '/srv/app/just-after.py'] });
    expect(files).toEqual([{ path: '/srv/app/helper.py', via: 'script', kind: 'modified-after-start', changedAt: start + 30_000, startedAt: start }]);
    expect(judgeScriptFiles({ ...base, paths: ['/srv/app/gone.py'], programIfAbsolute: '/srv/app/gone.py' })).toEqual([{ path: '/srv/app/gone.py', via: 'script', kind: 'deleted' }]);
    expect(judgeScriptFiles({ ...base, paths: ['/srv/app/gone.py'] })).toEqual([]);
    expect(judgeScriptFiles({ ...base, startedAtMs: undefined, paths: ['/srv/app/helper.py'] })).toEqual([]);
  });

  const changeSet: ChangeSet = {
    old: { source: 'dir', path: '/srv/rel/v1' },
    new: { source: 'dir', path: '/srv/rel/v2' },
    changed: [
      { rel: 'app/main.py', oldPath: '/srv/rel/v1/app/main.py', newPath: '/srv/rel/v2/app/main.py' },
      { rel: 'up.py', oldPath: '/usr/lib/foo/up.py', newPath: '/usr/lib/foo/up.py' },
      { rel: 'late.py', oldPath: '/usr/lib/foo/late.py', newPath: '/usr/lib/foo/late.py' },
    ],
    removed: [
      { rel: 'app/old.py', path: '/srv/app/gone.py' },
      { rel: 'x', path: '/usr/lib/foo/x.py' },
      { rel: 'y', path: '/usr/lib/bar/y.py' },
    ],
    added: [],
    unchanged: 3,
  };
  const changes = indexChangeSet(changeSet);

  it('with a ChangeSet: its verdict; an in-place change or removal dated clearly before the start is already running', () => {
    const judged = (path: string) => judgeScriptFiles({ ...base, changes, paths: [path] }).map((f) => [f.kind, f.new?.path]);
    expect(judged('/srv/rel/v1/app/main.py')).toEqual([['changed', '/srv/rel/v2/app/main.py']]);
    expect(judged('/usr/lib/foo/up.py')).toEqual([]);
    expect(judged('/usr/lib/foo/late.py')).toEqual([['changed', '/usr/lib/foo/late.py']]);
    expect(judged('/usr/lib/foo/x.py')).toEqual([['removed', undefined]]);
    expect(judged('/usr/lib/bar/y.py')).toEqual([]);
    expect(judged('/srv/app/main.py')).toEqual([]);
  });

  it('the ChangeSet queried by directory', () => {
    const byDir = indexChangesByDir(changeSet);
    expect(byDir.under('/usr/lib/foo')).toEqual(['/usr/lib/foo/late.py', '/usr/lib/foo/up.py', '/usr/lib/foo/x.py']);
    expect(byDir.under('/srv/rel/v1/')).toEqual(['/srv/rel/v1/app/main.py']);
    expect(byDir.under('/srv/rel/v1/ap')).toEqual([]);
    expect(indexChangesByDir(undefined).under('/')).toEqual([]);
  });
});

describe('small parsers', () => {
  it('cmdline: NUL-separated, trailing NUL dropped, empty args kept', () => {
    expect(parseCmdline(Buffer.from('python3\0-c\0\0x y\0'))).toEqual(['python3', '-c', '', 'x y']);
    expect(parseCmdline(Buffer.alloc(0))).toEqual([]);
  });

  it('btime and AT_CLKTCK', () => {
    expect(parseBootTime('cpu  1 2 3\nbtime 1700000000\nprocesses 5\n')).toBe(1_700_000_000);
    const auxv = Buffer.alloc(64);
    auxv.writeBigUInt64LE(6n, 0); // AT_PAGESZ
    auxv.writeBigUInt64LE(4096n, 8);
    auxv.writeBigUInt64LE(17n, 16); // AT_CLKTCK
    auxv.writeBigUInt64LE(250n, 24);
    expect(parseClockTicks(auxv, 8)).toBe(250);
    expect(parseClockTicks(Buffer.alloc(32), 8)).toBeUndefined();
  });

  it('script evidence is added only for files the process does not already show', () => {
    const held: StaleFile[] = [{ path: '/srv/app/run.sh', kind: 'deleted', via: 'fd' }];
    const scripts: StaleFile[] = [
      { path: '/srv/app/run.sh', kind: 'modified-after-start', via: 'script' },
      { path: '/srv/app/lib.sh', kind: 'modified-after-start', via: 'script' },
    ];
    expect(withScriptFiles(held, scripts).map((f) => [f.path, f.via])).toEqual([
      ['/srv/app/run.sh', 'fd'],
      ['/srv/app/lib.sh', 'script'],
    ]);
    expect(withScriptFiles(held, undefined)).toBe(held);
  });
});
