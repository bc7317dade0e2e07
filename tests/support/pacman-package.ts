import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Real pacman packages without makepkg (it refuses to run as root, and Debian ships it apart):
 * a .PKGINFO and the files, in a gzip'ed tar (pacman reads any archive libarchive reads; gzip and
 * GNU tar are always on Debian). Only the listed files go in the archive, no directory entries, so
 * the package owns nothing but them (not /srv or the test's own directory).
 */
export interface PacmanPackageSpec {
  name: string;
  /** pkgver-pkgrel, e.g. "2-1". */
  version: string;
  /** Absolute install path -> the file's content, or `{ copyOf }` a file to copy (mode kept). */
  files: Record<string, string | Buffer | { copyOf: string }>;
  /** Where the package file goes. */
  outDir: string;
}

function run(file: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

/** Builds NAME-VERSION-any.pkg.tar.gz in outDir and returns its path. */
export async function buildPacmanPackage(spec: PacmanPackageSpec): Promise<string> {
  const tree = mkdtempSync(join(spec.outDir, `tree-${spec.name}-`));
  try {
    const members: string[] = [];
    let size = 0;
    for (const [path, content] of Object.entries(spec.files)) {
      if (!path.startsWith('/')) throw new Error(`package path must be absolute: ${path}`);
      const dest = join(tree, path);
      mkdirSync(dirname(dest), { recursive: true });
      if (typeof content === 'object' && !Buffer.isBuffer(content)) copyFileSync(content.copyOf, dest);
      else writeFileSync(dest, content, { mode: 0o644 });
      size += statSync(dest).size;
      members.push(path.slice(1));
    }
    const info = [
      `pkgname = ${spec.name}`,
      `pkgbase = ${spec.name}`,
      `pkgver = ${spec.version}`,
      'pkgdesc = restartd test package',
      'url = https://example.invalid/restartd',
      `builddate = ${Math.floor(Date.now() / 1000)}`,
      'packager = restartd tests <root@localhost>',
      `size = ${size}`,
      'arch = any',
      'license = MIT',
    ];
    writeFileSync(join(tree, '.PKGINFO'), `${info.join('\n')}\n`);
    const out = join(spec.outDir, `${spec.name}-${spec.version}-any.pkg.tar.gz`);
    await run('tar', ['-czf', out, '--owner=0', '--group=0', '--numeric-owner', '--no-recursion', '.PKGINFO', ...members], tree);
    return out;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}
