// npm run build's last step: the optional native scan loop (native/proc-scan.c) as an N-API addon,
// dist/native/proc-scan.node, compiled with the C compiler when there is one (CC, else cc/gcc)
// against the node-api-headers package (N-API is ABI-stable: no node-gyp, no Node headers download).
// No compiler, or a failed compile: a note, exit 0, and restartd scans with TypeScript alone.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(REPO, 'dist/native/proc-scan.node');
rmSync(OUT, { force: true });

function skip(why) {
  process.stderr.write(`build-native: ${why}: the native scan loop is not built (the TypeScript scan is used; same results)\n`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`not Linux (${process.platform})`);
if (process.env.RESTARTD_NATIVE_BUILD === '0') skip('RESTARTD_NATIVE_BUILD=0');
let include;
try {
  include = createRequire(import.meta.url)('node-api-headers').include_dir;
} catch {
  skip('the node-api-headers package is not installed');
}
const cc = [process.env.CC, 'cc', 'gcc'].find((c) => c && spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
if (cc === undefined) skip('no C compiler (cc, gcc or $CC)');
mkdirSync(dirname(OUT), { recursive: true });
const args = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-fPIC', '-shared', '-I', include, '-o', OUT, join(REPO, 'native/proc-scan.c')];
const built = spawnSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
if (built.status !== 0) {
  rmSync(OUT, { force: true });
  skip(`${cc} failed (exit ${built.status ?? built.signal})`);
}
