import { execFile } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A real OSTree sysroot under /srv (never the host's / or /ostree), built with the installed
 * `ostree` (Debian 12: 2022.7): `admin init-fs`, `admin os-init`, commits into SYSROOT/ostree/repo
 * and `admin deploy`, so deployments are real checkouts: files hardlinked from the repo's objects,
 * /etc a copy of usr/etc, the deployment dir marked immutable.
 *
 * What `ostree admin deploy` needs of a tree (found by trying 2022.7): a kernel at
 * usr/lib/modules/VERSION/vmlinuz (an initramfs.img beside it) and an os-release (usr/lib/os-release);
 * bootloader entries go to SYSROOT/boot/loader.N (`sysroot.bootloader=none` in the repo config, so no
 * bootloader of the host is ever probed).
 */

export const OS = 'demo';
export const REF = 'demo/stable';
const KERNEL = '6.1.0-restartd-demo';

/** The programs of the demo tree, compiled once per sysroot. */
const LIB_SOURCE = (version: number) => `int demo_version(void) { return ${version}; }\nconst char demo_banner[] = "libdemo v${version}";\n`;
// Links libdemo through an rpath into its own deployment, calls it, then waits.
const LIBUSER_SOURCE = `#include <unistd.h>
int demo_version(void);
int main(void) { if (demo_version() < 1) return 1; for (;;) pause(); }
`;
// Opens and maps each file named (read-only, private), then waits: a process holding data files.
const HOLDER_SOURCE = `#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return 2;
    if (mmap(0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED) return 3;
  }
  for (;;) pause();
}
`;

export interface Deployment {
  /** The commit checksum. */
  commit: string;
  /** SYSROOT/ostree/deploy/OS/deploy/CHECKSUM.SERIAL */
  path: string;
}

function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024, ...(cwd === undefined ? {} : { cwd }) }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')}: ${error.message}\n${stderr}${stdout}`));
      else resolve(stdout);
    });
  });
}

function write(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

/** Sizes of the demo tree's files, so tests can state the expected bytes. */
export const BIG_BYTES = 256 * 1024;
export const CONF = 'greeting=hello\n';

export class OstreeSysroot {
  readonly root = mkdtempSync('/srv/restartd-ostree-');
  readonly sysroot = join(this.root, 'sysroot');
  readonly repo = join(this.sysroot, 'ostree', 'repo');
  /** The dir of trees `restartd status --generations` reads. */
  readonly deployDir = join(this.sysroot, 'ostree', 'deploy', OS, 'deploy');
  private readonly build = join(this.root, 'build');

  /** init-fs, os-init, bootloader none; compiles the demo programs. */
  async init(): Promise<void> {
    mkdirSync(this.sysroot);
    await run('ostree', ['admin', 'init-fs', this.sysroot]);
    await run('ostree', ['admin', `--sysroot=${this.sysroot}`, 'os-init', OS]);
    await run('ostree', [`--repo=${this.repo}`, 'config', 'set', 'sysroot.bootloader', 'none']);
    mkdirSync(this.build, { recursive: true });
    for (const version of [1, 2]) {
      write(join(this.build, `libdemo${version}.c`), LIB_SOURCE(version));
      await run('gcc', ['-shared', '-fPIC', '-Wl,-soname,libdemo.so.1', '-o', join(this.build, `libdemo.so.${version}.built`), join(this.build, `libdemo${version}.c`)]);
    }
    // libuser is linked against v1's library (same soname and ABI in v2) and finds it through its rpath.
    copyFileSync(join(this.build, 'libdemo.so.1.built'), join(this.build, 'libdemo.so.1'));
    write(join(this.build, 'libuser.c'), LIBUSER_SOURCE);
    await run('gcc', ['-o', join(this.build, 'libuser'), join(this.build, 'libuser.c'), `-L${this.build}`, '-l:libdemo.so.1', "-Wl,-rpath,$ORIGIN/../lib"]);
    write(join(this.build, 'holder.c'), HOLDER_SOURCE);
    await run('gcc', ['-o', join(this.build, 'holder'), join(this.build, 'holder.c')]);
    write(join(this.build, 'big'), Buffer.alloc(BIG_BYTES, 'b'));
  }

  /**
   * Commits version N of the demo tree on REF and deploys it. Versions differ in usr/bin/app (v1 is a
   * copy of /bin/sleep, later ones have trailing bytes) and usr/lib/libdemo.so.1 (compiled from
   * another source); everything else has the same bytes, so the same repo object. Each tree has
   * usr/etc/demo.conf (deployed as etc/demo.conf too), a kernel and os-release, bin and lib links.
   */
  async deploy(version: 1 | 2): Promise<Deployment> {
    const tree = join(this.build, `tree-v${version}`);
    for (const dir of ['bin', 'lib']) mkdirSync(join(tree, 'usr', dir), { recursive: true });
    copyFileSync('/bin/sleep', join(tree, 'usr', 'bin', 'app'));
    if (version > 1) appendFileSync(join(tree, 'usr', 'bin', 'app'), `\nrestartd-test ostree v${version}\n`);
    copyFileSync(join(this.build, 'libuser'), join(tree, 'usr', 'bin', 'libuser'));
    copyFileSync(join(this.build, 'holder'), join(tree, 'usr', 'bin', 'holder'));
    copyFileSync(join(this.build, `libdemo.so.${version}.built`), join(tree, 'usr', 'lib', 'libdemo.so.1'));
    symlinkSync('libdemo.so.1', join(tree, 'usr', 'lib', 'libdemo.so'));
    mkdirSync(join(tree, 'usr', 'share', 'demo'), { recursive: true });
    copyFileSync(join(this.build, 'big'), join(tree, 'usr', 'share', 'demo', 'big.dat'));
    // Same bytes under another name: one object in the repo, so one inode in the deployment.
    copyFileSync(join(this.build, 'big'), join(tree, 'usr', 'share', 'demo', 'big-copy.dat'));
    write(join(tree, 'usr', 'etc', 'demo.conf'), CONF);
    write(join(tree, 'usr', 'lib', 'os-release'), 'ID=restartd-demo\nNAME="restartd demo"\nVERSION_ID=1\n');
    write(join(tree, 'usr', 'lib', 'modules', KERNEL, 'vmlinuz'), 'not a kernel\n');
    write(join(tree, 'usr', 'lib', 'modules', KERNEL, 'initramfs.img'), 'not an initramfs\n');
    // The usual OSTree top level: links into /usr.
    for (const dir of ['bin', 'lib']) symlinkSync(`usr/${dir}`, join(tree, dir));
    const commit = (await run('ostree', [`--repo=${this.repo}`, 'commit', `--branch=${REF}`, `--tree=dir=${tree}`, `--subject=v${version}`])).trim();
    await run('ostree', ['admin', `--sysroot=${this.sysroot}`, 'deploy', `--os=${OS}`, REF]);
    const path = join(this.deployDir, `${commit}.0`);
    if (!existsSync(path)) throw new Error(`ostree admin deploy did not create ${path}: ${readdirSync(this.deployDir).join(', ')}`);
    return { commit, path };
  }

  /** `ostree admin status` as text (the deployments, newest first). */
  status(): Promise<string> {
    return run('ostree', ['admin', `--sysroot=${this.sysroot}`, 'status']);
  }

  /** Deployments are immutable (chattr +i): clear that, then remove everything. */
  async remove(): Promise<void> {
    for (const name of existsSync(this.deployDir) ? readdirSync(this.deployDir) : []) {
      await run('chattr', ['-i', join(this.deployDir, name)]).catch(() => undefined);
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
