// Command-line flags of `npm run bench` (node bench/run.mjs [flags]).
import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run bench -- [flags]      (or: node bench/run.mjs [flags] after npm run build)

  --sizes 50,500,2000,10000  workload sizes N (processes) for the process scan (10000: ~2.5 GB of RAM)
  --modes inplace,nix        workload modes (inplace: files deleted/replaced in place; nix: store paths, nothing deleted)
  --topology tree|flat       how the workload's processes are parented (default tree; flat makes needrestart slow)
  --runs 5                   timed runs per tool (median is reported)
  --tools restartd,needrestart,checkrestart,floor
  --clean-ratio 0.25         share of workload processes the switch leaves clean (false positives show on them)
  --diff-files 100000        files per tree in the diff benchmark (0 or --no-diff: skip it)
  --diff-runs 3              timed runs per tool in the diff benchmark
  --diff-dir /srv            where the diff trees are generated (e.g. /dev/shm: tmpfs, much faster to generate)
  --no-scan                  skip the process scan benchmark
  --no-diff                  skip the diff benchmark
  --no-idle                  skip the idle host (status on the host as it is, against checkrestart and node -e 0; --no-scan skips it too)
  --quick                    sizes 50,500, 3 runs, 20000-file diff trees (a smoke run: ~1 minute)
  --timeout 300              seconds before one tool run is killed
  --out DIR                  where results-<timestamp>.json and latest.md go (default bench/out)
  -h, --help
`;

const OPTIONS = {
  sizes: { type: 'string' },
  modes: { type: 'string' },
  topology: { type: 'string' },
  runs: { type: 'string' },
  tools: { type: 'string' },
  'clean-ratio': { type: 'string' },
  'diff-files': { type: 'string' },
  'diff-runs': { type: 'string' },
  'diff-dir': { type: 'string' },
  'no-scan': { type: 'boolean', default: false },
  'no-diff': { type: 'boolean', default: false },
  'no-idle': { type: 'boolean', default: false },
  quick: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
};

export const ALL_TOOLS = ['restartd', 'needrestart', 'checkrestart', 'floor'];
const MODES = ['inplace', 'nix', 'dir'];

function fail(message) {
  const error = new Error(`${message}\n\n${USAGE}`);
  error.usage = true;
  throw error;
}

function intList(flag, value) {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n <= 0)) fail(`--${flag}: expected positive integers separated by commas, got "${value}"`);
  return list;
}

function positiveInt(flag, value, { allowZero = false } = {}) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) fail(`--${flag}: expected a ${allowZero ? 'non-negative' : 'positive'} integer, got "${value}"`);
  return n;
}

function oneOfList(flag, value, allowed) {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((v) => !allowed.includes(v));
  if (list.length === 0 || bad.length > 0) fail(`--${flag}: expected some of ${allowed.join(', ')}, got "${value}"`);
  return [...new Set(list)];
}

/** Parses argv into the bench configuration. Throws an Error with `.usage = true` on bad input. */
export function parseBenchArgs(argv) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true }));
  } catch (error) {
    fail(error.message);
  }
  if (values.help) return { help: true };
  const quick = values.quick;
  const config = {
    help: false,
    quick,
    sizes: values.sizes ? intList('sizes', values.sizes) : quick ? [50, 500] : [50, 500, 2000, 10000],
    modes: values.modes ? oneOfList('modes', values.modes, MODES) : ['inplace', 'nix'],
    topology: values.topology ?? 'tree',
    runs: values.runs ? positiveInt('runs', values.runs) : quick ? 3 : 5,
    tools: values.tools ? oneOfList('tools', values.tools, ALL_TOOLS) : [...ALL_TOOLS],
    cleanRatio: 0.25,
    diffFiles: values['diff-files'] ? positiveInt('diff-files', values['diff-files'], { allowZero: true }) : quick ? 20000 : 100000,
    diffRuns: values['diff-runs'] ? positiveInt('diff-runs', values['diff-runs']) : 3,
    diffDir: values['diff-dir'] ?? '/srv',
    scan: !values['no-scan'],
    diff: !values['no-diff'],
    idle: !values['no-idle'],
    timeoutMs: (values.timeout ? positiveInt('timeout', values.timeout) : 300) * 1000,
    outDir: values.out,
  };
  if (!['tree', 'flat'].includes(config.topology)) fail(`--topology: expected tree or flat, got "${config.topology}"`);
  if (values['clean-ratio'] !== undefined) {
    const r = Number(values['clean-ratio']);
    if (!(r >= 0 && r <= 1)) fail(`--clean-ratio: expected a number in [0, 1], got "${values['clean-ratio']}"`);
    config.cleanRatio = r;
  }
  if (config.diffFiles === 0) config.diff = false;
  if (!config.diffDir.startsWith('/')) fail(`--diff-dir: expected an absolute path, got "${config.diffDir}"`);
  // restartd is the reference every ratio is taken against: always run it.
  if (!config.tools.includes('restartd')) config.tools.unshift('restartd');
  config.sizes.sort((a, b) => a - b);
  return config;
}
