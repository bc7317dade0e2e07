#!/usr/bin/env node
// npm run package:deb (after npm run build): dist/restartd_<version>_all.deb, built with dpkg-deb
// from the bundle, offline and reproducible: every mtime is SOURCE_DATE_EPOCH (default: the last
// commit's time), entries sorted, owner root, gzip without names or times.
//   --out DIR       where the .deb goes (default dist)
//   --version V     the package version (default package.json's)
// The man page and the completions are generated from the CLI's flag table (dist/cli/*.js).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { renderBashCompletion, renderZshCompletion } from '../dist/cli/completions.js';
import { renderManPage } from '../dist/cli/man-page.js';

const REPO = join(dirname(new URL(import.meta.url).pathname), '..');
// Left out of the bundle (esbuild --external): shipped under /usr/lib/restartd/node_modules.
const EXTERNALS = ['dbus-next', 'etcd3', 'chokidar'];
const LIB = 'usr/lib/restartd';
// Who builds it (dch's variables), by default the project.
const MAINTAINER = `${process.env.DEBFULLNAME ?? 'restartd authors'} <${process.env.DEBEMAIL ?? 'restartd@users.noreply.github.com'}>`;

const { values } = parseArgs({ options: { out: { type: 'string' }, version: { type: 'string' } } });
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const version = values.version ?? pkg.version;
const out = values.out ?? join(REPO, 'dist');
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? gitTime());
const date = new Date(epoch * 1000);

function gitTime() {
  try {
    return execFileSync('git', ['-C', REPO, 'log', '-1', '--format=%ct'], { encoding: 'utf8' }).trim() || '0';
  } catch {
    return '0';
  }
}

const tree = mkdtempSync(join(tmpdir(), 'restartd-deb-'));

function write(path, text, mode = 0o644) {
  mkdirSync(dirname(join(tree, path)), { recursive: true });
  writeFileSync(join(tree, path), text);
  chmodSync(join(tree, path), mode);
}

function copy(from, to, mode = 0o644) {
  write(to, readFileSync(join(REPO, from)), mode);
}

const gzip = (text) => gzipSync(text, { level: 9 });

function build() {
  if (!existsSync(join(REPO, 'dist/cli/restartd.js'))) throw new Error('package-deb: run npm run build first');
  write('usr/bin/restartd', `#!/bin/sh\nexec /usr/bin/node /${LIB}/dist/cli/restartd.js "$@"\n`, 0o755);
  // The CLI reads its version from ../../package.json.
  write(`${LIB}/package.json`, `${JSON.stringify({ name: 'restartd', version, type: 'module', private: true }, null, 2)}\n`);
  for (const name of readdirSync(join(REPO, 'dist/cli')).sort()) {
    if (name === 'restartd.js') copy(`dist/cli/${name}`, `${LIB}/dist/cli/${name}`, 0o755);
    else if (name === 'scan-worker.js' || /^restartd-[A-Z0-9]+\.js$/.test(name)) copy(`dist/cli/${name}`, `${LIB}/dist/cli/${name}`);
  }
  for (const dir of runtimeModules()) shipModule(dir);
  copy('examples/apt/restartd-pkg-snapshot', `${LIB}/restartd-pkg-snapshot`, 0o755);
  copy('examples/apt/manifest-of-files.mjs', `${LIB}/manifest-of-files.mjs`);
  // examples/apt's hook, its scripts where the package puts them; a conffile.
  const hook = readFileSync(join(REPO, 'examples/apt/99restartd'), 'utf8').replaceAll('/usr/local/lib/restartd/', `/${LIB}/`);
  write('etc/apt/apt.conf.d/99restartd', `// Installed by the restartd package (a conffile: apt purge restartd removes it).\n${hook}`);
  copy('examples/systemd/restartd-watch.service', 'lib/systemd/system/restartd-watch.service');
  write('usr/share/man/man8/restartd.8.gz', gzip(renderManPage(version, date.toISOString().slice(0, 10))));
  write('usr/share/bash-completion/completions/restartd', renderBashCompletion());
  write('usr/share/zsh/vendor-completions/_restartd', renderZshCompletion());
  const doc = 'usr/share/doc/restartd';
  copy('packaging/deb/copyright', `${doc}/copyright`);
  write(`${doc}/changelog.gz`, gzip(changelog()));
  write(`${doc}/README.md.gz`, gzip(readFileSync(join(REPO, 'README.md'))));
  copy('examples/config.json', `${doc}/examples/config.json`);
  for (const name of readdirSync(join(REPO, 'schemas')).sort()) copy(`schemas/${name}`, `${doc}/schemas/${name}`);
  const files = listFiles(tree);
  write('DEBIAN/control', control(installedSizeKiB(files)));
  write('DEBIAN/conffiles', '/etc/apt/apt.conf.d/99restartd\n');
  write('DEBIAN/md5sums', files.map((f) => `${createHash('md5').update(readFileSync(join(tree, f))).digest('hex')}  ${f}\n`).join(''));
  for (const script of ['postinst', 'prerm', 'postrm']) copy(`packaging/deb/${script}`, `DEBIAN/${script}`, 0o755);
  settle(tree);
  mkdirSync(out, { recursive: true });
  const deb = join(out, `restartd_${version}_all.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', tree, deb], {
    env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.stdout.write(`${relative(process.cwd(), deb) || deb}\n`);
}

function control(installedSize) {
  return [
    'Package: restartd',
    `Version: ${version}`,
    'Architecture: all',
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${installedSize}`,
    'Depends: nodejs (>= 20.19)',
    'Section: admin',
    'Priority: optional',
    'Description: finish live software updates: restart what still runs old code',
    ' After a software switch (an apt upgrade, a Nix generation, an OSTree',
    ' deployment, a current -> releases/vN symlink) restartd finds the running',
    ' processes that still use old files and restarts their owners the right way:',
    ' systemd units over D-Bus, signals, update-aware apps.',
    ' .',
    ' The package hooks restartd into apt (each apt transaction ends in one',
    ' restartd hook), installs restartd-watch.service (not enabled), the man page',
    ' and the bash and zsh completions.',
    '',
  ].join('\n');
}

function changelog() {
  const stamp = date.toUTCString().replace('GMT', '+0000');
  return `restartd (${version}) unstable; urgency=medium\n\n  * Built from the restartd repository.\n\n -- ${MAINTAINER}  ${stamp}\n`;
}

/** The module dirs the externals need at run time (dependencies and optional ones, transitively). */
function runtimeModules() {
  const found = new Set();
  const visit = (name, from) => {
    const dir = resolveModule(name, from);
    if (dir === undefined) return; // an optional dependency not installed (dbus-next's native usocket)
    if (found.has(dir)) return;
    found.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) visit(dep, dir);
  };
  for (const name of EXTERNALS) visit(name, REPO);
  return [...found].sort();
}

/** Node's lookup: DIR/node_modules/NAME, then each parent's. */
function resolveModule(name, from) {
  for (let dir = from; dir.startsWith(REPO); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === REPO) break;
  }
  return undefined;
}

// Run-time files only: no nested node_modules (shipped on their own), maps, types or docs.
const SKIP = /(^|\/)(node_modules|\.[^/]*|test|tests|__tests__|docs?|example|examples)(\/|$)|\.(map|d\.ts|d\.mts|d\.cts|ts|md|markdown)$/;

function shipModule(dir) {
  const target = join(tree, LIB, relative(REPO, dir));
  for (const file of listFiles(dir)) {
    if (SKIP.test(file) && !/^license/i.test(file)) continue;
    // Only a module's scripts (#!) stay executable; everything else is imported.
    mkdirSync(dirname(join(target, file)), { recursive: true });
    cpSync(join(dir, file), join(target, file));
    chmodSync(join(target, file), readFileSync(join(dir, file)).subarray(0, 2).toString() === '#!' ? 0o755 : 0o644);
  }
}

/** Every regular file under DIR, relative, sorted (symlinks left out). */
function listFiles(dir, prefix = '') {
  const files = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) {
      if (path !== 'DEBIAN') files.push(...listFiles(dir, path));
    } else if (entry.isFile()) files.push(path);
  }
  return files;
}

function installedSizeKiB(files) {
  return files.reduce((sum, f) => sum + Math.ceil(statSync(join(tree, f)).size / 1024), 0);
}

/** Directories 0755, every mtime the epoch: the same tree twice gives the same archive. */
function settle(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      settle(path);
      chmodSync(path, 0o755);
    }
    if (!lstatSync(path).isSymbolicLink()) utimesSync(path, epoch, epoch);
  }
  chmodSync(dir, 0o755);
  utimesSync(dir, epoch, epoch);
}

try {
  build();
} finally {
  rmSync(tree, { recursive: true, force: true });
}
