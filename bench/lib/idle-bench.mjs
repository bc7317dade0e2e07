// The idle host: `restartd status --json` on the machine as it is (no workload), against checkrestart
// and Node's own start-up (`node -e 0`): what restartd costs where there is almost nothing to scan.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSnapshot, otherCpuShare } from './host.mjs';
import { timedRun } from './exec.mjs';
import { isShuttingDown } from './cleanup.mjs';
import { restartdBin, toolEnv } from './tools.mjs';
import { summarise } from './scan-bench.mjs';

/** The commands of the idle case, each with the exit codes that count as a run. */
function idleCommands(repo, tools) {
  const commands = {
    restartd: { cmd: process.execPath, args: [join(repo, restartdBin(repo)), 'status', '--json'], okCodes: [0, 1, 2], describe: `node ${restartdBin(repo)} status --json` },
    'node -e 0': { cmd: process.execPath, args: ['-e', '0'], okCodes: [0], describe: 'node -e 0' },
  };
  if (tools.includes('checkrestart') && existsSync('/usr/sbin/checkrestart') && existsSync('/usr/bin/lsof')) {
    commands.checkrestart = { cmd: '/usr/sbin/checkrestart', args: [], okCodes: [0, 1], describe: 'checkrestart' };
  }
  return commands;
}

/**
 * Times each idle command `runs` times, round-robin after one untimed run each. Returns
 * `{ processes, otherCpu, tools: { [name]: { command, wallMedianMs, wallMinMs, wallMaxMs, cpuMedianMs, rssPeakKb, runs } }, ratios }`
 * with `ratios['restartd/checkrestart']` and `overNodeMs` (restartd's median minus node -e 0's).
 */
export async function benchIdle({ repo, tools, runs, timeoutMs, tmpDir, log }) {
  const commands = idleCommands(repo, tools);
  const env = toolEnv();
  const names = Object.keys(commands);
  const results = Object.fromEntries(names.map((name) => [name, { tool: name, command: commands[name].describe, runs: [], failures: [] }]));
  const processes = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
  log(`  idle host: ${processes} processes; ${names.join(', ')}`);
  for (const name of names) {
    const { cmd, args, okCodes } = commands[name];
    const first = await timedRun(cmd, args, { env, tmpDir, timeoutMs, keepOutput: false });
    if (first.timedOut || !okCodes.includes(first.code)) throw new Error(`idle host: ${name} failed (exit ${first.code ?? first.signal}): ${first.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  }
  const cpuBefore = cpuSnapshot();
  for (let i = 0; i < runs; i++) {
    for (const name of names) {
      if (isShuttingDown()) throw new Error('interrupted');
      const { cmd, args, okCodes } = commands[name];
      const run = await timedRun(cmd, args, { env, tmpDir, timeoutMs, keepOutput: false });
      if (run.timedOut || !okCodes.includes(run.code)) results[name].failures.push({ code: run.code, signal: run.signal, timedOut: run.timedOut });
      else results[name].runs.push({ wallMs: run.wallMs, cpuMs: run.cpuMs, rssKb: run.rssKb });
    }
  }
  const otherCpu = otherCpuShare(cpuBefore, cpuSnapshot());
  for (const r of Object.values(results)) summarise(r);
  const rd = results.restartd.wallMedianMs;
  const cr = results.checkrestart?.wallMedianMs ?? null;
  const node = results['node -e 0'].wallMedianMs;
  const ratios = {
    'restartd/checkrestart': rd != null && cr ? Math.round((rd / cr) * 100) / 100 : null,
    overNodeMs: rd != null && node != null ? Math.round((rd - node) * 10) / 10 : null,
  };
  log(`  restartd ${rd} ms, checkrestart ${cr ?? '–'} ms, node -e 0 ${node} ms`);
  return { processes, otherCpu, tools: results, ratios };
}
