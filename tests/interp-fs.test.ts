import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateProgram } from '../src/interp/locate-program.js';
import { programOf } from '../src/interp/program-of.js';
import { RootView } from '../src/interp/root-view.js';
import { walkSources } from '../src/interp/walk-sources.js';
import { scratchRoot } from './support/scratch.js';

describe('reading a process\'s files through its root, by stat/readdir/bounded reads only', () => {
  const scratch = scratchRoot('interp-fs');
  // A container's "/" as seen from the host.
  const prefix = `${scratch.root}/container`;
  const put = (path: string, text = '') => {
    mkdirSync(dirname(prefix + path), { recursive: true });
    writeFileSync(prefix + path, text);
  };

  beforeAll(() => {
    put('/opt/tool/bin/tool.pl', 'use lib "$FindBin::Bin/../../toollib";\nuse lib "/usr/share/perl5";\n');
    put('/opt/tool/lib/Tool/Util.pm');
    put('/opt/toollib/Extra.pm');
    put('/opt/tool/.git/config.pl');
    put('/opt/tool/node_modules/dep/index.js');
    put('/srv/web/package.json', '{}');
    put('/srv/web/src/server.js');
    put('/srv/web/src/util.js');
    put('/srv/web/node_modules/a/index.js');
    put('/srv/web/node_modules/a/package.json', '{}');
    put('/srv/web/data/cache.json');
    put('/srv/web/README.md');
    mkdirSync(`${prefix}/usr/bin`, { recursive: true });
    // Absolute links mean the container's "/", not the host's.
    symlinkSync('/opt/tool/bin/tool.pl', `${prefix}/usr/bin/tool`);
    symlinkSync('../../srv/web/src/server.js', `${prefix}/usr/bin/web`);
    execFileSync('mkfifo', [`${prefix}/srv/web/fifo.js`]);
  });
  afterAll(() => scratch.remove());

  it('resolves symlinks inside the root, absolute targets included', () => {
    const view = new RootView(prefix);
    expect(view.realpath('/usr/bin/tool')).toBe('/opt/tool/bin/tool.pl');
    expect(view.realpath('/usr/bin/web')).toBe('/srv/web/src/server.js');
    expect(view.kind('/usr/bin/tool')).toBe('file');
    expect(view.realpath('/usr/bin/none')).toBeUndefined();
  });

  it('a FIFO planted as a source file is neither read (no hang) nor listed', () => {
    const view = new RootView(prefix);
    expect(view.readHead('/srv/web/fifo.js', 1024)).toBeUndefined();
    expect(view.readHead('/srv/web/package.json', 1024)).toBe('{}');
    const walk = walkSources(view, '/srv/web', 'node', { maxExamined: 100, deadline: Infinity });
    expect(walk.files).toEqual(['/srv/web/src/server.js', '/srv/web/src/util.js', '/srv/web/node_modules/a/index.js']);
  });

  it('walks a tree breadth first, own files before node_modules, skipping dot dirs, up to the cap', () => {
    const view = new RootView(prefix);
    expect(walkSources(view, '/opt/tool', 'perl', { maxExamined: 100, deadline: Infinity }).files).toEqual(['/opt/tool/bin/tool.pl', '/opt/tool/lib/Tool/Util.pm']);
    const capped = walkSources(view, '/srv/web', 'node', { maxExamined: 4, deadline: Infinity });
    expect(capped).toMatchObject({ capped: true, examined: 5 });
    expect(capped.files.some((f) => f.includes('node_modules'))).toBe(false);
  });

  it('locates a perl program run through a symlink: its tree (bin/ parent), its `use lib` dirs, never a shared dir', () => {
    const view = new RootView(prefix);
    const argv = ['perl', '/usr/bin/tool'];
    const located = locateProgram({ exe: '/usr/bin/perl', argv, cwd: '/' }, 'perl', programOf('perl', argv), view);
    expect(located).toEqual({ file: '/usr/bin/tool', realFile: '/opt/tool/bin/tool.pl', missing: false, extras: [], trees: ['/opt/tool', '/opt/toollib'] });
  });

  it('relative programs resolve against the cwd; a relative one that is not there is unresolved, an absolute one is missing', () => {
    const view = new RootView(prefix);
    const at = (argv: string[], cwd: string | null) => locateProgram({ exe: '/usr/bin/node', argv, cwd }, 'node', programOf('node', argv), view);
    expect(at(['node', '-r', './src/util', 'src/server.js'], '/srv/web')).toMatchObject({ realFile: '/srv/web/src/server.js', extras: ['/srv/web/src/util.js'], trees: ['/srv/web'] });
    expect(at(['node', 'server.js'], '/srv/web')).toBeUndefined();
    expect(at(['node', 'src/server.js'], null)).toBeUndefined();
    expect(at(['node', '/srv/web/gone.js'], '/')).toMatchObject({ file: '/srv/web/gone.js', missing: true, trees: [] });
    expect(at(['node', '../../proc/self/exe'], '/srv/web')).toBeUndefined();
  });
});
