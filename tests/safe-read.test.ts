import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, readlinkSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { detectStale } from '../src/detect.js';
import { loadManifest } from '../src/generation/load-manifest.js';
import { buildStaleReport } from '../src/report/stale-json.js';
import { readRegular } from '../src/safe-fs/read-regular.js';
import { MAX_HELD_FILES_PER_PROCESS } from '../src/scan/proc-reader.js';
import { runCli } from './support/cli.js';
import { until } from './support/live-process.js';
import { scratchRoot } from './support/scratch.js';

const GiB = 1024 ** 3;
const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** A process that holds `file` on fd 3 (python: nothing from the test's own runtime). */
function holdOnFd3(file: string, extra = ''): ChildProcess {
  const code = `import os, sys, time\nfd = os.open(sys.argv[1], os.O_RDONLY)\nos.dup2(fd, 3)\n${extra}\nwhile True: time.sleep(1)\n`;
  return spawn('/usr/bin/python3', ['-c', code, file], { stdio: 'ignore' });
}

function holdsFd3(pid: number, file: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/fd/3`) === file;
  } catch {
    return false;
  }
}

describe('files a target names are read defensively', () => {
  const scratch = scratchRoot('safe-read');
  const { root } = scratch;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    execFileSync('mkfifo', [`${root}/fifo`]);
  });

  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    scratch.remove();
  });

  it('a FIFO, a device or a directory is refused at once, never read', () => {
    expect(readRegular(`${root}/fifo`, { maxBytes: 10 })).toEqual({ ok: false, reason: 'not-regular', kind: 'FIFO' });
    expect(readRegular('/dev/urandom', { maxBytes: 10 })).toEqual({ ok: false, reason: 'not-regular', kind: 'character device' });
    expect(readRegular(root, { maxBytes: 10 })).toMatchObject({ ok: false, reason: 'not-regular', kind: 'directory' });
    writeFileSync(`${root}/big`, 'x'.repeat(100));
    expect(readRegular(`${root}/big`, { maxBytes: 10 })).toEqual({ ok: false, reason: 'too-large', size: 100, limit: 10 });
  });

  it('a symlink at a target path is not followed unless asked', () => {
    writeFileSync(`${root}/real`, 'real');
    execFileSync('ln', ['-sf', `${root}/real`, `${root}/link`]);
    expect(readRegular(`${root}/link`, { maxBytes: 10 })).toEqual({ ok: false, reason: 'unreadable', errno: 'ELOOP' });
    expect(readRegular(`${root}/link`, { maxBytes: 10, follow: true })).toMatchObject({ ok: true });
  });

  it('--config FIFO and --config /dev/urandom give named errors at once', async () => {
    await expect(loadConfig(`${root}/fifo`)).rejects.toMatchObject({ code: 'BAD_CONFIG', message: `config ${root}/fifo: is a FIFO, not a regular file` });
    await expect(loadConfig('/dev/urandom')).rejects.toMatchObject({ code: 'BAD_CONFIG', message: 'config /dev/urandom: is a character device, not a regular file' });
    const run = await runCli(['status', '--config', `${root}/fifo`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`config ${root}/fifo: is a FIFO, not a regular file`);
  });

  it('a FIFO manifest gives a named error at once', async () => {
    await expect(loadManifest(`${root}/fifo`)).rejects.toMatchObject({ code: 'BAD_MANIFEST', message: `manifest ${root}/fifo: is a FIFO, not a regular file` });
  });

  it('a deleted sparse file over the compare limit is judged by identity alone, without reading it', async () => {
    writeFileSync(`${root}/sparse.dat`, '');
    truncateSync(`${root}/sparse.dat`, 16 * GiB);
    const child = holdOnFd3(`${root}/sparse.dat`);
    children.push(child);
    await until(() => holdsFd3(child.pid!, `${root}/sparse.dat`), 'the holder to open its file');
    // Same size, no disk used: comparing byte for byte would read 16 GiB twice.
    writeFileSync(`${root}/sparse.new`, '');
    truncateSync(`${root}/sparse.new`, 16 * GiB);
    renameSync(`${root}/sparse.new`, `${root}/sparse.dat`);
    const { stale } = await detectStale({ pids: [child.pid!] });
    const file = stale[0]?.files.find((f) => f.path === `${root}/sparse.dat`);
    expect(file).toMatchObject({ kind: 'deleted', via: 'fd', identityOnly: true });
  });

  it('under the limit, same bytes are not stale and other bytes of the same size are', async () => {
    writeFileSync(`${root}/same.dat`, 'A'.repeat(300_000));
    writeFileSync(`${root}/other.dat`, 'A'.repeat(300_000));
    const same = holdOnFd3(`${root}/same.dat`);
    const other = holdOnFd3(`${root}/other.dat`);
    children.push(same, other);
    await until(() => holdsFd3(same.pid!, `${root}/same.dat`) && holdsFd3(other.pid!, `${root}/other.dat`), 'both holders to open their files');
    writeFileSync(`${root}/same.new`, 'A'.repeat(300_000));
    renameSync(`${root}/same.new`, `${root}/same.dat`);
    // Differs in the middle only: past the head and tail samples, found by the hash.
    writeFileSync(`${root}/other.new`, `${'A'.repeat(150_000)}B${'A'.repeat(149_999)}`);
    renameSync(`${root}/other.new`, `${root}/other.dat`);
    const { stale } = await detectStale({ pids: [same.pid!, other.pid!] });
    expect(stale.map((p) => p.pid)).toEqual([other.pid]);
    expect(stale[0]?.files.find((f) => f.path === `${root}/other.dat`)).toMatchObject({ kind: 'deleted' });
    expect(stale[0]?.files.find((f) => f.path === `${root}/other.dat`)?.identityOnly).toBeUndefined();
    // A limit of 0 bytes: judged by identity alone, and said so.
    const identity = await detectStale({ pids: [same.pid!], compareMaxBytes: 0 });
    expect(identity.stale[0]?.files.find((f) => f.path === `${root}/same.dat`)).toMatchObject({ kind: 'deleted', identityOnly: true });
  });

  it('an fd swapped between a deleted file and a FIFO every few ms never stalls a scan (bounded loop)', async () => {
    writeFileSync(`${root}/toggle.dat`, 'T'.repeat(4096));
    writeFileSync(`${root}/pad.dat`, 'pad');
    execFileSync('mkfifo', [`${root}/toggle.fifo`]);
    // fd 3 flips between the (soon deleted) file and the read end of a FIFO nobody writes to: a
    // blocking open of /proc/PID/fd/3 while it is the FIFO waits for a writer forever. 1,500 more
    // fds widen the window between the scan's stat of fd 3 and the content comparison's open.
    const flip = [
      'pads = [os.open(sys.argv[1] + "/pad.dat", os.O_RDONLY) for _ in range(1500)]',
      'fifo = os.open(sys.argv[1] + "/toggle.fifo", os.O_RDONLY | os.O_NONBLOCK)',
      'while True:',
      '    os.dup2(fifo, 3); time.sleep(0.004)',
      '    os.dup2(fd, 3); time.sleep(0.001)',
    ].join('\n');
    // The steady copy on fd 9: listed after fd 3, so fd 3 is the one compared when it shows the file.
    const code = `import os, sys, time\nfd = os.dup2(os.open(sys.argv[1] + "/toggle.dat", os.O_RDONLY), 9)\nos.dup2(fd, 3)\n${flip}\n`;
    const child = spawn('/usr/bin/python3', ['-c', code, root], { stdio: 'ignore' });
    children.push(child);
    await until(() => holdsFd3(child.pid!, `${root}/toggle.dat`), 'the flipper to open its file');
    writeFileSync(`${root}/toggle.new`, 'T'.repeat(4096));
    renameSync(`${root}/toggle.new`, `${root}/toggle.dat`);
    // Each scan in its own process: a scan stuck in open() blocks its whole event loop.
    const scan = `import { detectStale } from ${JSON.stringify(DIST_INDEX)}; await detectStale({ pids: [${child.pid}] });`;
    let stalled = 0;
    const failed: string[] = [];
    for (let i = 0; i < 30; i++) {
      stalled += await new Promise<number>((resolve) => {
        execFile(process.execPath, ['--input-type=module', '-e', scan], { timeout: 60_000 }, (error, _stdout, stderr) => {
          // A scan that did not run (an import error, a throw) is a failure too, not "not stalled".
          if (error && !error.killed) failed.push(stderr || error.message);
          resolve(error?.killed ? 1 : 0);
        });
      });
    }
    expect(failed).toEqual([]);
    expect(stalled).toBe(0);
  }, 1_800_000);
});

describe('manifest caps', () => {
  const scratch = scratchRoot('manifest-caps');
  afterAll(() => scratch.remove());

  it('a manifest with more entries than the cap is refused, named, before validating them', async () => {
    const path = `${scratch.root}/huge.json`;
    const files = Array.from({ length: 200_001 }, (_, i) => ({ path: `f${i}`, sha256: '0'.repeat(64) }));
    writeFileSync(path, JSON.stringify({ version: 1, root: '/srv/x', files }));
    await expect(loadManifest(path)).rejects.toMatchObject({ code: 'BAD_MANIFEST', message: `manifest ${path}: too many entries (200001, at most 200000: limits.manifestMaxEntries)` });
  });

  it("the config's limits.manifestMaxEntries and manifestMaxBytes bound what plan reads", async () => {
    const manifest = (name: string, count: number): string => {
      const path = `${scratch.root}/${name}.json`;
      writeFileSync(path, JSON.stringify({ version: 1, root: '/srv/x', files: Array.from({ length: count }, (_, i) => ({ path: `f${i}`, sha256: '0'.repeat(64) })) }));
      return path;
    };
    const old = manifest('old', 3);
    const next = manifest('new', 3);
    const config = (limits: object): string => {
      const path = `${scratch.root}/config-${Object.keys(limits).join('-')}.json`;
      writeFileSync(path, JSON.stringify({ version: 1, limits }));
      return path;
    };
    const plan = (configPath: string) => runCli(['plan', '--old', old, '--new', next, '--json', '--config', configPath, '--bus', `unix:path=${scratch.root}/no-bus`]);
    const entries = await plan(config({ manifestMaxEntries: 2 }));
    expect(entries.code).toBe(3);
    // Both are loaded at once: whichever is refused first is named.
    expect(entries.stderr).toMatch(/manifest \S+\/(old|new)\.json: too many entries \(3, at most 2: limits\.manifestMaxEntries\)/);
    const bytes = await plan(config({ manifestMaxBytes: 10 }));
    expect(bytes.code).toBe(3);
    expect(bytes.stderr).toMatch(/manifest \S+\/(old|new)\.json: /);
    // Within the limits the same manifests plan as usual.
    expect((await plan(config({ manifestMaxEntries: 3 }))).code).not.toBe(3);
  });
});

describe('the per-process held-file cap', () => {
  const scratch = scratchRoot('held-cap');
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
    scratch.remove();
  });

  it('a process holding more than 20,000 files gets 20,000 examined; the rest are counted and reported', async () => {
    writeFileSync(`${scratch.root}/held.dat`, 'held');
    const code = [
      'import mmap, os, resource, sys, time',
      'soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)',
      'resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))',
      // 400 distinct mapped files (their fds closed) plus as many fds as the limit allows.
      'maps = []',
      'for i in range(400):',
      '    p = "%s.%d" % (sys.argv[1], i); open(p, "w").write("m")',
      '    f = os.open(p, os.O_RDONLY); maps.append(mmap.mmap(f, 0, prot=mmap.PROT_READ)); os.close(f)',
      'fd = os.open(sys.argv[1], os.O_RDONLY)',
      'fds = []',
      'try:',
      '    while len(fds) < 30000: fds.append(os.dup(fd))',
      'except OSError: pass',
      'os.close(fds.pop())',
      'open(sys.argv[1] + ".ready", "w").close()',
      'time.sleep(600)',
    ].join('\n');
    child = spawn('/usr/bin/python3', ['-c', code, `${scratch.root}/held.dat`], { stdio: 'ignore' });
    await until(() => existsSync(`${scratch.root}/held.dat.ready`), 'the holder to open its fds', 6000);
    const detection = await detectStale({ pids: [child.pid!] });
    const image = detection.scan.processes.find((p) => p.pid === child!.pid);
    expect(image?.files).toHaveLength(MAX_HELD_FILES_PER_PROCESS);
    expect(image?.heldFilesNotExamined).toBeGreaterThan(300);
    const report = buildStaleReport({ ...detection });
    expect(report.scanned.heldFilesNotExamined).toBe(image?.heldFilesNotExamined);

    // The cap is the config's limits.heldFilesPerProcess: 100 leaves all but 100 of the holder's files unexamined.
    const held = (image?.files.length ?? 0) + (image?.heldFilesNotExamined ?? 0);
    const small = await detectStale({ pids: [child.pid!], maxHeldFiles: 100 });
    expect(small.scan.processes.find((p) => p.pid === child!.pid)?.files).toHaveLength(100);
    const config = `${scratch.root}/small-cap.json`;
    writeFileSync(config, JSON.stringify({ version: 1, limits: { heldFilesPerProcess: 100 } }));
    const run = await runCli(['status', '--json', '--config', config, '--state-dir', `${scratch.root}/state`, '--generations', `${scratch.root}`, '--bus', `unix:path=${scratch.root}/no-bus`]);
    const scanned = (JSON.parse(run.stdout) as { scanned: { heldFilesNotExamined?: number } }).scanned;
    // Other processes on the machine can only add to the count.
    expect(scanned.heldFilesNotExamined).toBeGreaterThanOrEqual(held - 100);
  }, 120_000);
});
