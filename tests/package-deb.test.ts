import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/types/flags.js';
import { runCli } from './support/cli.js';
import { demoDeb, packageDeb, run, VERSION } from './support/deb.js';
import { OverlayRoot } from './support/overlay-root.js';

// npm run package:deb for real: the .deb built twice (byte-identical), linted, then installed,
// upgraded, removed and purged with apt-get in a throwaway overlay of this machine's root, with apt
// running its hook there. The host's own dpkg database, /usr and /var/lib/restartd stay untouched.
const NEXT = `${VERSION}+next1`;
const DEMO = 'restartd-test-deb-demo';
const ZSH_COMPLETE = fileURLToPath(new URL('./support/zsh-complete.zsh', import.meta.url));
const APT = { DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'l' };
let root: OverlayRoot;
let debs: string;
let deb: string;

/** A file of the package, as unpacked from the .deb (dpkg-deb -x, in beforeAll). */
async function member(path: string): Promise<Buffer> {
  return readFileSync(join(debs, 'x', path));
}

async function inRoot(script: string, env: Record<string, string> = {}): Promise<string> {
  const result = await root.run(script, env);
  expect(result.code, `${script}\n${result.out}`).toBe(0);
  return result.out;
}

beforeAll(async () => {
  root = new OverlayRoot('/srv/restartd-test-deb-');
  debs = join(root.base, 'debs');
  deb = await packageDeb(debs);
  expect((await run('dpkg-deb', ['-x', deb, join(debs, 'x')])).code).toBe(0);
  // The copy's package database is frozen now (copied up): apt runs on this machine meanwhile
  // (other tests install packages) do not change it under the overlay.
  await inRoot('find /var/lib/dpkg /var/lib/apt -xdev -type f -exec touch -c {} +');
}, 300_000);

afterAll(() => root?.remove());

describe('npm run package:deb', () => {
  it('builds the same bytes twice', async () => {
    const again = await packageDeb(join(debs, 'again'));
    expect(readFileSync(again).equals(readFileSync(deb))).toBe(true);
  });

  it('has the control fields, the conffile and the files the package promises', async () => {
    const fields = await run('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Architecture', 'Depends']);
    expect(fields.stdout).toBe(`Package: restartd\nVersion: ${VERSION}\nArchitecture: all\nDepends: nodejs (>= 20.19)\n`);
    const control = join(debs, 'control');
    expect((await run('dpkg-deb', ['-e', deb, control])).code).toBe(0);
    expect(readFileSync(join(control, 'conffiles'), 'utf8')).toBe('/etc/apt/apt.conf.d/99restartd\n');
    const listing = (await run('dpkg-deb', ['-c', deb])).stdout;
    const paths = listing.split('\n').filter(Boolean).map((line) => line.split(/\s+/)[5]?.replace(/^\./, ''));
    for (const path of [
      '/usr/bin/restartd',
      '/usr/lib/restartd/dist/cli/restartd.js',
      '/usr/lib/restartd/dist/cli/scan-worker.js',
      '/usr/lib/restartd/package.json',
      '/usr/lib/restartd/restartd-pkg-snapshot',
      '/usr/lib/restartd/manifest-of-files.mjs',
      // the bundle's externals and what they need, so nothing is installed on the target
      '/usr/lib/restartd/node_modules/dbus-next/package.json',
      '/usr/lib/restartd/node_modules/chokidar/package.json',
      '/usr/lib/restartd/node_modules/readdirp/package.json',
      '/usr/lib/restartd/node_modules/etcd3/package.json',
      '/usr/lib/restartd/node_modules/@grpc/grpc-js/package.json',
      '/etc/apt/apt.conf.d/99restartd',
      '/lib/systemd/system/restartd-watch.service',
      '/usr/share/man/man8/restartd.8.gz',
      '/usr/share/bash-completion/completions/restartd',
      '/usr/share/zsh/vendor-completions/_restartd',
      '/usr/share/doc/restartd/copyright',
      '/usr/share/doc/restartd/examples/config.json',
      '/usr/share/doc/restartd/schemas/status.schema.json',
    ]) expect(paths).toContain(path);
    // the build tree's leftovers stay out: no source maps, no type declarations, no dev dependencies
    expect(paths.filter((p) => p !== undefined && /\.map$|\.d\.ts$|\/(vitest|esbuild|typescript)\//.test(p))).toEqual([]);
    // Architecture all: no native code of our own (the scan runs as TypeScript, without the optional addon)
    expect(paths.filter((p) => p !== undefined && /proc-scan\.node$|\/dist\/native\//.test(p))).toEqual([]);
    // owner root, mtimes all the same (SOURCE_DATE_EPOCH)
    expect(new Set(listing.split('\n').filter(Boolean).map((line) => line.split(/\s+/)[1]))).toEqual(new Set(['root/root']));
    expect(new Set(listing.split('\n').filter(Boolean).map((line) => line.split(/\s+/).slice(3, 5).join(' '))).size).toBe(1);
  });

  it('is lintian clean at the error and warning levels', async () => {
    // Left at the info level and explained: the module licenses under /usr/lib/restartd/node_modules
    // ("documentation outside /usr/share/doc": they belong with their modules), no init.d script
    // (restartd-watch.service is systemd-only), and the unit's sandboxing (it restarts system
    // services over the bus and reads every process's /proc: hardening it is the admin's call).
    const lint = await run('lintian', ['--no-cfg', '--fail-on', 'error,warning', deb]);
    expect(lint.out.split('\n').filter((line) => /^[EW]: /.test(line)), lint.out).toEqual([]);
    expect(lint.code, lint.out).toBe(0);
  });

  it('generates the man page and the completions from the flag table: every command and flag of --help is in them', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    const flags = [...new Set(help.stdout.match(/--[a-z][a-z-]+/g))].filter((flag) => flag !== '--old/--new');
    expect(flags.length).toBeGreaterThan(20);
    const man = gunzipSync(await member('usr/share/man/man8/restartd.8.gz')).toString();
    const rendered = (await run('man', ['-l', '-Tutf8', '-P', 'cat', join(debs, 'x/usr/share/man/man8/restartd.8.gz')], { env: { ...process.env, MANWIDTH: '200' } })).stdout.replace(/.\x08/g, '').replace(/\u2010/g, '-').replace(/\s+/g, ' ');
    const bash = (await member('usr/share/bash-completion/completions/restartd')).toString();
    const zsh = (await member('usr/share/zsh/vendor-completions/_restartd')).toString();
    for (const flag of flags) {
      expect(man, flag).toContain(flag.replaceAll('-', '\\-'));
      expect(rendered, flag).toContain(flag);
      expect(bash, flag).toContain(flag);
      expect(zsh, flag).toContain(flag);
    }
    for (const command of COMMANDS) {
      expect(rendered).toContain(`restartd ${command.synopsis}`.replace(/\s+/g, ' '));
      expect(zsh).toContain(`'${command.name}:`);
    }
    for (const section of ['EXIT STATUS', 'ENVIRONMENT', 'FILES', 'NEEDRESTART_SUSPEND', 'RESTARTD_SUSPEND', '/var/lib/restartd/']) expect(rendered).toContain(section);
    expect((await run('zsh', ['-n', join(debs, 'x/usr/share/zsh/vendor-completions/_restartd')])).code).toBe(0);
  });

  it('bash completes commands, a command\'s flags and a flag\'s values', async () => {
    const complete = async (line: string): Promise<string[]> => {
      const words = line.split(' ');
      const script = `. ${join(debs, 'x/usr/share/bash-completion/completions/restartd')}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _restartd; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const out = await run('bash', ['-c', script]);
      expect(out.code, out.out).toBe(0);
      return out.stdout.split('\n').filter(Boolean);
    };
    expect(await complete('restartd ')).toEqual(expect.arrayContaining(COMMANDS.map((c) => c.name)));
    const apply = await complete('restartd apply --');
    expect(apply).toEqual(expect.arrayContaining(['--dry-run', '--old', '--new', '--wait', '--retry', '--json']));
    expect(apply).not.toContain('--prometheus');
    expect(await complete('restartd apply --source ')).toEqual(['dir', 'nix', 'manifest']);
    expect(await complete('restartd status --prom')).toEqual(['--prometheus']);
  });

  it('zsh completes commands, a command\'s flags and a flag\'s values', async () => {
    let n = 0;
    const complete = async (line: string): Promise<string[]> => {
      const out = join(debs, `zsh-${++n}`);
      const zsh = await run('zsh', ['-f', ZSH_COMPLETE, join(debs, 'x/usr/share/zsh/vendor-completions'), line, out]);
      expect(zsh.code, zsh.out).toBe(0);
      const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
      expect(lines.at(-1)).toBe('DONE');
      return [...new Set(lines.slice(0, -1))];
    };
    expect(await complete('restartd ')).toEqual(COMMANDS.map((c) => c.name));
    const apply = await complete('restartd apply --');
    expect(apply).toEqual(expect.arrayContaining(['--dry-run', '--old', '--new', '--wait', '--retry', '--json']));
    expect(apply).not.toContain('--prometheus');
    expect(await complete('restartd apply --source ')).toEqual(['dir', 'nix', 'manifest']);
  });
});

/** Every path under DIR, relative. */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    return entry.isDirectory() ? [path, ...walk(dir, path)] : [path];
  });
}

describe('the .deb installed, upgraded and purged with apt-get (in an overlay of this machine)', () => {
  it('installs: the CLI runs from /, postinst made /var/lib/restartd (0700) and nothing else, man and completion find it', async () => {
    // A fresh machine: whatever this one has at /var/lib/restartd is hidden in the copy.
    await inRoot(`rm -rf /var/lib/restartd && apt-get install -y ${deb}`, APT);
    const listed = (await inRoot('dpkg -L restartd')).split('\n').filter(Boolean).map((p) => p.replace(/^\//, ''));
    const help = await inRoot('/usr/bin/restartd --help');
    expect(help).toContain('usage: restartd <command> [options]');
    expect(await inRoot('restartd --version')).toContain(VERSION);
    // status as a monitoring check: 0..3 are its answers; the JSON is what counts
    const status = await root.run('/usr/bin/restartd status --json --bus unix:path=/run/none');
    expect([0, 1, 2, 3], status.out).toContain(status.code);
    expect(JSON.parse(status.out.slice(status.out.indexOf('{'), status.out.lastIndexOf('}') + 1))).toMatchObject({ version: 1, scanned: expect.any(Object) });
    expect(statSync(join(root.upper, 'var/lib/restartd')).mode & 0o777).toBe(0o700);
    // What the install wrote: apt's and dpkg's own records, man-db's index, the package's files, the state dir.
    // usrmerge: /lib is /usr/lib, so dpkg's lib/… is written as usr/lib/…
    const ours = new Set([...listed.map((p) => p.replace(/^lib\//, 'usr/lib/')), 'var/lib/restartd']);
    const written = walk(root.upper).filter((p) => !/^(var\/lib\/dpkg|var\/lib\/apt|var\/log|var\/cache\/(man|apt|debconf)|root)(\/|$)|^(var\/cache|tmp)$/.test(p));
    const stray = written.filter((p) => !ours.has(p) && ![...ours].some((o) => o.startsWith(`${p}/`)));
    expect(stray).toEqual([]);
    expect(await inRoot('man -w restartd')).toContain('/usr/share/man/man8/restartd.8.gz');
    expect(await inRoot(`bash -lic '_completion_loader restartd; complete -p restartd' 2>/dev/null`)).toContain('complete -F _restartd restartd');
  });

  it('apt runs the installed hook; RESTARTD_SUSPEND records the switch only, and a failing restartd never fails apt', async () => {
    const [v1, v2] = [await demoDeb(debs, DEMO, 1), await demoDeb(debs, DEMO, 2)];
    await inRoot(`apt-get install -y ${v1}`, { DEBIAN_FRONTEND: 'noninteractive', RESTARTD_SUSPEND: '1' });
    expect(existsSync(join(root.upper, 'var/lib/restartd/pkg/old.json'))).toBe(true);
    expect(readFileSync(join(root.upper, 'var/lib/restartd/pkg/packages'), 'utf8')).toBe(`${DEMO}\n`);
    // suspended: the switch is recorded, pending for a later hook
    expect(existsSync(join(root.upper, 'var/lib/restartd/pending.json'))).toBe(true);
    // not suspended, no bus to restart anything through: restartd says so, apt goes on
    const upgrade = await root.run(`apt-get install -y ${v2}`, { DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'l', RESTARTD_HOOK_ARGS: '--bus unix:path=/run/none' });
    expect(upgrade.code, upgrade.out).toBe(0);
    expect(upgrade.out).toMatch(/restartd/);
    expect(upgrade.out).not.toMatch(/Cannot find module|internal error/);
    const manifest = JSON.parse(readFileSync(join(root.upper, 'var/lib/restartd/pkg/old.json'), 'utf8')) as { files: { path: string }[] };
    expect(manifest.files.map((f) => f.path)).toContain(`usr/lib/${DEMO}/demo`);
  });

  it('upgrades to the next version keeping the config, the edited conffile and the journal', async () => {
    const next = await packageDeb(join(debs, 'next'), NEXT);
    await inRoot(`mkdir -p /etc/restartd && echo '{ "version": 1 }' > /etc/restartd/config.json && echo '// edited' >> /etc/apt/apt.conf.d/99restartd && echo kept > /var/lib/restartd/marker`);
    const journal = walk(join(root.upper, 'var/lib/restartd')).sort();
    // apt upgrades restartd with restartd's own hook active (no bus in the copy: it reports that, apt goes on)
    await inRoot(`apt-get install -y ${next}`, APT);
    expect(await inRoot('restartd --version')).toContain(NEXT);
    expect(await inRoot('dpkg-query -W -f "\\${Version}" restartd')).toBe(NEXT);
    expect(readFileSync(join(root.upper, 'etc/restartd/config.json'), 'utf8')).toContain('"version": 1');
    expect(readFileSync(join(root.upper, 'etc/apt/apt.conf.d/99restartd'), 'utf8')).toContain('// edited');
    // the state dir kept all it had (restartd's own hook adds its record of this upgrade)
    expect(walk(join(root.upper, 'var/lib/restartd'))).toEqual(expect.arrayContaining(journal));
    expect(readFileSync(join(root.upper, 'var/lib/restartd/marker'), 'utf8')).toBe('kept\n');
  });

  it('removes (the conffile stays and does nothing to apt), then purges: no file of the package is left', async () => {
    const listed = (await inRoot('dpkg -L restartd')).split('\n').filter(Boolean);
    await inRoot('apt-get remove -y restartd', APT);
    expect(await inRoot('test ! -e /usr/bin/restartd && test -f /etc/apt/apt.conf.d/99restartd && test -d /var/lib/restartd && echo removed')).toContain('removed');
    // the hook's conffile is left behind by remove: apt still runs cleanly with it
    const apt = await root.run(`apt-get install -y --allow-downgrades ${await demoDeb(debs, DEMO, 1)}`, { DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'l' });
    expect(apt.code, apt.out).toBe(0);
    await inRoot('apt-get purge -y restartd', APT);
    const left = (await inRoot(`for p in ${listed.join(' ')} /var/lib/restartd /etc/apt/apt.conf.d/99restartd; do if [ -f "$p" ]; then echo "$p"; fi; done; test ! -e /var/lib/restartd; echo checked`)).split('\n').filter(Boolean);
    expect(left).toEqual(['checked']);
    expect((await root.run('dpkg-query -W restartd')).code).not.toBe(0);
  });
});
