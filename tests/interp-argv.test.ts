import { describe, expect, it } from 'vitest';
import { interpreterOf, mayBeInterpreter } from '../src/scan/interpreter.js';
import { programOf } from '../src/interp/program-of.js';
import type { InterpreterFamily, Program } from '../src/types/interp.js';

describe('interpreterOf: from the exe, never from comm or argv[0]', () => {
  it.each([
    ['/usr/bin/python3.11', 'python'],
    ['/usr/bin/python3', 'python'],
    ['/usr/bin/python', 'python'],
    ['/usr/bin/python3.11d', 'python'],
    ['/usr/bin/pypy3', 'python'],
    ['/root/.pyenv/versions/3.11.7/bin/python3.11', 'python'],
    ['/usr/bin/perl', 'perl'],
    ['/usr/bin/perl5.36.0', 'perl'],
    ['/usr/bin/ruby3.1', 'ruby'],
    ['/usr/bin/ruby', 'ruby'],
    ['/usr/bin/node', 'node'],
    ['/usr/bin/nodejs', 'node'],
    ['/usr/bin/bash', 'shell'],
    ['/usr/bin/dash', 'shell'],
    ['/bin/sh', 'shell'],
    ['/usr/bin/zsh', 'shell'],
    ['/usr/bin/ksh93', 'shell'],
    ['/usr/bin/mksh', 'shell'],
  ] as const)('%s -> %s', (exe, family) => {
    expect(mayBeInterpreter(exe)).toBe(true);
    expect(interpreterOf(exe)).toBe(family);
  });

  it.each(['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/sleep', '/usr/lib/systemd/systemd', '/usr/bin/pythonista-helper', '/usr/bin/perldoc', '/usr/bin/fish', '/usr/bin/nodemon'])(
    '%s is not an interpreter',
    (exe) => {
      expect(mayBeInterpreter(exe)).toBe(false);
      expect(interpreterOf(exe)).toBeUndefined();
    },
  );

  it('a process named "python" by comm or argv[0] is not one unless its exe is', () => {
    expect(interpreterOf('/usr/bin/sleep', 'python3')).toBeUndefined();
    expect(interpreterOf(null, 'python3')).toBeUndefined();
  });

  it('busybox is a shell only as its sh/ash applet', () => {
    expect(mayBeInterpreter('/bin/busybox')).toBe(true);
    expect(interpreterOf('/bin/busybox', 'sh')).toBe('shell');
    expect(interpreterOf('/bin/busybox', '-ash')).toBe('shell');
    expect(interpreterOf('/bin/busybox', 'httpd')).toBeUndefined();
  });
});

const script = (path: string, libDirs: string[] = [], preloads: string[] = []): Program => ({ kind: 'script', path, libDirs, preloads });
const inline: Program = { kind: 'none', reason: 'inline-code' };
const stdin: Program = { kind: 'none', reason: 'stdin' };
const interactive: Program = { kind: 'none', reason: 'interactive' };

const cases: Array<[InterpreterFamily, string[], Program]> = [
  ['python', ['python3', 'app.py', '-c', 'x'], script('app.py')],
  ['python', ['python3', '-u', '-X', 'dev', '-W', 'ignore', '/srv/app/main.py', '--flag'], script('/srv/app/main.py')],
  ['python', ['python3', '-Xfrozen_modules=off', '-Wdefault', '-OO', 'main.py'], script('main.py')],
  ['python', ['python3', '-uB', '-m', 'http.server', '8000'], { kind: 'module', name: 'http.server' }],
  ['python', ['python3', '-mpkg.tool'], { kind: 'module', name: 'pkg.tool' }],
  ['python', ['python3', '-uc', 'import x'], inline],
  ['python', ['python3', '-c', 'import x', 'not-a-script.py'], inline],
  ['python', ['python3', '--check-hash-based-pycs', 'always', 'main.py'], script('main.py')],
  ['python', ['python3', '-'], stdin],
  ['python', ['python3', '--', '-odd-name.py'], script('-odd-name.py')],
  ['python', ['python3'], interactive],
  ['python', ['python3', '-m'], { kind: 'none', reason: 'bad-args' }],
  ['perl', ['perl', '-w', '-Ilib', '-I', '/opt/x/lib', 'bin/app.pl', 'arg'], script('bin/app.pl', ['lib', '/opt/x/lib'])],
  ['perl', ['perl', '-wle', 'print 1', 'file.txt'], inline],
  ['perl', ['perl', '-e', 'print 1', '-e', 'print 2'], inline],
  ['perl', ['perl', '-MStrict=vars', '-mData::Dumper', '-T', 'app.pl'], script('app.pl')],
  ['perl', ['perl', '-pi.bak', 'edit.pl'], script('edit.pl')],
  // The classic trap: -pie makes "e" the backup extension, so the code is taken as the program file.
  ['perl', ['perl', '-pie', 's/a/b/', 'f'], script('s/a/b/')],
  ['perl', ['perl', '-l012', '-0777', 'slurp.pl'], script('slurp.pl')],
  ['perl', ['perl', '-d:Trace', '-x', 'wrapped.sh'], script('wrapped.sh')],
  ['perl', ['perl', '--', 'app.pl'], script('app.pl')],
  ['perl', ['perl'], stdin],
  ['ruby', ['ruby', '-w', '-I', 'lib', '-rjson', '-Ilib2', 'app.rb'], script('app.rb', ['lib', 'lib2'])],
  ['ruby', ['ruby', '-C', '/srv/app', '-E', 'UTF-8', '--enable', 'frozen-string-literal', 'main.rb'], script('main.rb')],
  ['ruby', ['ruby', '-e', 'puts 1', 'x.rb'], inline],
  ['ruby', ['ruby', '--disable=gems', '-W0', 'x.rb'], script('x.rb')],
  ['node', ['node', '--max-old-space-size=4096', '-r', './preload.js', '--require', 'dotenv/config', 'server.js', '--port', '1'], script('server.js', [], ['./preload.js'])],
  ['node', ['node', '--import=./loader.mjs', '--input-type', 'module', 'main.mjs'], script('main.mjs', [], ['./loader.mjs'])],
  ['node', ['node', '-e', 'require("x")'], inline],
  ['node', ['node', '--eval=1', 'arg.js'], inline],
  ['node', ['node', '-pe', '1'], inline],
  ['node', ['node', '--inspect', '--enable-source-maps', 'dist/main.js'], script('dist/main.js')],
  ['node', ['node', '--stack-size', '2000', 'app.js'], script('app.js')],
  ['node', ['node', '-'], stdin],
  ['node', ['node'], interactive],
  ['shell', ['/bin/bash', '/srv/app/run.sh', 'a'], script('/srv/app/run.sh')],
  ['shell', ['bash', '-euo', 'pipefail', 'run.sh'], script('run.sh')],
  ['shell', ['bash', '-O', 'extglob', '+o', 'history', '--norc', 'run.sh'], script('run.sh')],
  ['shell', ['bash', '--rcfile', '/etc/x', 'run.sh'], script('run.sh')],
  ['shell', ['bash', '-c', 'exec sleep 1', 'name', 'arg'], inline],
  ['shell', ['sh', '-ec', 'true'], inline],
  ['shell', ['bash', '-s', 'arg'], stdin],
  ['shell', ['-bash'], interactive],
  ['shell', ['bash', '-i'], interactive],
  ['shell', ['dash', '--', 'run.sh'], script('run.sh')],
  // Process substitution and friends: a pipe, not a program file (and /dev/fd would be ours, not theirs).
  ['shell', ['bash', '/dev/fd/63'], stdin],
  ['python', ['python3', '/proc/self/fd/0'], stdin],
];

describe('programOf: the program from argv, options skipped the way each interpreter parses them', () => {
  it.each(cases)('%s %j', (family, argv, expected) => {
    expect(programOf(family, argv)).toEqual(expected);
  });
});
