#!/usr/bin/env node
// make-workload.mjs - the testkit as a command, for the benchmark and for poking at it by hand.
//
//   node testkit/make-workload.mjs --root DIR --procs N --mode inplace|nix|dir
//        [--topology tree|flat] [--clean-ratio R] [--phase all|start|switch]
//   node testkit/make-workload.mjs --cleanup --root DIR
//
// all (default): build, start, switch, verify; leaves the processes running and writes
// DIR/ground-truth.json and DIR/pids.tsv. start / switch: the two halves, in separate runs.
// Prints one JSON summary line on stdout. The daemons are detached and hold none of this
// process's descriptors, so a parent reading our stdout sees EOF when we exit.
import { parseArgs } from 'node:util';
import { attachWorkload, cleanupRoot, startWorkload } from './workload.mjs';

const USAGE = `usage: make-workload.mjs --root DIR --procs N --mode inplace|nix|dir [--topology tree|flat]
                        [--clean-ratio R] [--phase all|start|switch]
       make-workload.mjs --cleanup --root DIR`;

function summary(w) {
  const daemons = w.processes.filter((p) => p.role !== 'supervisor');
  return {
    root: w.root,
    mode: w.mode,
    topology: w.topology,
    switched: w.switched,
    procs: daemons.length,
    stale: daemons.filter((p) => p.stale).length,
    supervisor: w.processes.find((p) => p.role === 'supervisor')?.pid ?? null,
    generations: w.generations,
    timings: w.timings,
    groundTruth: `${w.root}/ground-truth.json`,
  };
}

async function main() {
  const { values: a } = parseArgs({
    options: {
      root: { type: 'string' },
      procs: { type: 'string', short: 'n' },
      mode: { type: 'string' },
      topology: { type: 'string', default: 'tree' },
      'clean-ratio': { type: 'string', default: '0' },
      phase: { type: 'string', default: 'all' },
      cleanup: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (a.help) return console.log(USAGE);
  if (!a.root) throw new Error(`--root is required\n${USAGE}`);
  if (a.cleanup) {
    await cleanupRoot(a.root);
    return console.log(JSON.stringify({ root: a.root, cleanedUp: true }));
  }
  if (a.phase === 'switch') {
    const w = await attachWorkload(a.root);
    await w.switch();
    return console.log(JSON.stringify(summary(w)));
  }
  if (a.phase !== 'all' && a.phase !== 'start') throw new Error(`--phase must be all, start or switch\n${USAGE}`);
  const w = await startWorkload({
    root: a.root,
    procs: Number(a.procs),
    mode: a.mode,
    topology: a.topology,
    cleanRatio: Number(a['clean-ratio']),
  });
  if (a.phase === 'all') {
    try {
      await w.switch();
    } catch (e) {
      await w.cleanup().catch(() => {});
      throw e;
    }
  }
  console.log(JSON.stringify(summary(w)));
}

main().catch((e) => {
  console.error(`make-workload: ${e.message}`);
  process.exitCode = 1;
});
