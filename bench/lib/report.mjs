// Renders the results as markdown (printed to stdout and written to bench/out/latest.md).
import { median } from './stats.mjs';

/** Targets for the largest workload (defined at N = 2000). `value` is computed from one scan case. */
export const TARGETS = [
  {
    id: 'vs-checkrestart',
    // checkrestart sees nothing in nix mode (recall 0%): there the floor is the yardstick.
    modes: ['inplace'],
    text: 'restartd ≤ 0.3× checkrestart (wall)',
    value: (c) => (c.ratios['checkrestart/restartd'] ? 1 / c.ratios['checkrestart/restartd'] : null),
    met: (v) => v <= 0.3,
    fmt: (v) => `${v.toFixed(2)}×`,
  },
  {
    id: 'vs-floor',
    text: 'restartd within 1.5× of the C floor (wall)',
    value: (c) => c.ratios['restartd/floor'],
    met: (v) => v <= 1.5,
    fmt: (v) => `${fmtX(v)}`,
  },
  {
    id: 'rss',
    text: 'restartd peak RSS ≤ 80 MB',
    value: (c) => (c.tools.restartd?.rssPeakKb == null ? null : c.tools.restartd.rssPeakKb / 1024),
    met: (v) => v <= 80,
    fmt: (v) => `${v.toFixed(0)} MB`,
  },
];

export const TARGET_N = 2000;

/** The target verdicts for each mode, at N = 2000 (or the largest N run, marked as such). */
/** restartd/diff -rq, at most. */
const DIFF_TARGETS = { hardlinks: 0.5, copies: 1.0 };

/** One pair of trees of the diff bench: its table, ratio, target and how busy the host was. */
function diffPairSection(title, pair, target) {
  const rd = pair.tools.restartd;
  const dq = pair.tools['diff -rq'];
  const counts = (r) => (r?.counts ? `${r.counts.changed}/${r.counts.added}/${r.counts.removed}` : r?.countsError ? `? (${r.countsError.slice(0, 60)})` : '–');
  const cpu = (r) => fmtMs(median(r.runs.map((x) => x.cpuMs).filter((x) => x != null)));
  const value = pair.ratio['restartd/diff -rq'];
  return [
    `### ${title}`,
    '',
    table(
      ['tool', 'wall', 'min–max', 'CPU', 'peak RSS', 'changed/added/removed', 'matches generated'],
      [rd, dq].map((r) =>
        r.skipped
          ? [r.tool, `skipped: ${r.skipped.slice(0, 60)}`, '', '', '', '', '']
          : [r.tool, fmtMs(r.wallMedianMs), `${fmtMs(r.wallMinMs)}–${fmtMs(r.wallMaxMs)}`, cpu(r), fmtMb(r.rssPeakKb), counts(r), r.countsMatch ? 'yes' : 'NO'],
      ),
    ),
    '',
    `restartd/diff -rq = ${fmtX(value)} (target ≤ ${target}×: ${value == null ? 'n/a' : value <= target ? 'met' : 'NOT MET'}); other processes used ${pct(pair.otherCpu)} of the CPUs during the timed runs${pair.otherCpu > 0.1 ? ' (NOISY)' : ''}.`,
  ];
}

/** restartd's cost per process: its median wall time less Node's start-up (`node -e 0`), over N. */
export function perProcessMs(c, machine) {
  const wall = c.tools?.restartd?.wallMedianMs;
  if (wall == null || machine?.nodeStartupMs == null) return null;
  return (wall - machine.nodeStartupMs) / c.n;
}

/** The largest N above TARGET_N whose cost per process is held against TARGET_N's. */
const SCALING_MAX = 1.2;
/** The idle host: restartd/checkrestart at most, and at most this many ms over `node -e 0`. */
const IDLE_TARGETS = { vsCheckrestart: 0.8, overNodeMs: 60 };

export function evaluateTargets(scanCases, idle = null, machine = null) {
  const out = [];
  const modes = [...new Set(scanCases.map((c) => c.mode))];
  for (const mode of modes) {
    const cases = scanCases.filter((c) => c.mode === mode && !c.error);
    if (cases.length === 0) continue;
    const c = cases.find((x) => x.n === TARGET_N) ?? cases.reduce((a, b) => (b.n > a.n ? b : a));
    for (const t of TARGETS) {
      if (t.modes && !t.modes.includes(mode)) continue;
      const v = t.value(c);
      out.push({ mode, n: c.n, atTargetN: c.n === TARGET_N, id: t.id, target: t.text, value: v ?? null, shown: v == null ? 'n/a' : t.fmt(v), met: v == null ? null : t.met(v) });
    }
    // No superlinear step: the cost per process at the largest N against N = 2000's.
    const base = cases.find((x) => x.n === TARGET_N);
    const big = cases.filter((x) => x.n > TARGET_N).reduce((a, b) => (a && a.n > b.n ? a : b), null);
    if (base && big) {
      const a = perProcessMs(base, machine);
      const b = perProcessMs(big, machine);
      const v = a && b ? b / a : null;
      out.push({ mode, n: big.n, atTargetN: true, id: 'scaling', target: `cost per process at ${big.n} ≤ ${SCALING_MAX}× that at ${TARGET_N} ((wall − node -e 0) / N)`, value: v, shown: v == null ? 'n/a' : `${v.toFixed(2)}× (${fmtUs(b)} vs ${fmtUs(a)})`, met: v == null ? null : v <= SCALING_MAX });
    }
  }
  if (idle && !idle.error) {
    const n = idle.processes;
    const vs = idle.ratios['restartd/checkrestart'];
    out.push({ mode: 'idle', n, atTargetN: true, id: 'idle-vs-checkrestart', target: `restartd ≤ ${IDLE_TARGETS.vsCheckrestart}× checkrestart (wall)`, value: vs, shown: vs == null ? 'n/a' : `${vs.toFixed(2)}×`, met: vs == null ? null : vs <= IDLE_TARGETS.vsCheckrestart });
    const over = idle.ratios.overNodeMs;
    out.push({ mode: 'idle', n, atTargetN: true, id: 'idle-over-node', target: `restartd ≤ ${IDLE_TARGETS.overNodeMs} ms above node -e 0 (wall)`, value: over, shown: over == null ? 'n/a' : `+${fmtMs(over)}`, met: over == null ? null : over <= IDLE_TARGETS.overNodeMs });
  }
  return out;
}

function fmtUs(ms) {
  return ms == null ? '–' : `${(ms * 1000).toFixed(0)} µs`;
}

/** The idle host's table: restartd, checkrestart and node -e 0 on the host as it is. */
function idleSection(idle, machine) {
  if (idle.error) return ['## Idle host', '', `error: ${idle.error}`];
  const rows = Object.values(idle.tools).map((r) => [
    r.tool,
    fmtMs(r.wallMedianMs),
    r.wallMinMs == null ? '–' : `${fmtMs(r.wallMinMs)}–${fmtMs(r.wallMaxMs)}`,
    r.cpuMedianMs == null ? '–' : r.cpuMedianMs === 0 ? '<10 ms' : fmtMs(r.cpuMedianMs),
    fmtMb(r.rssPeakKb),
    r.failures.length ? `${r.failures.length} failed` : '',
  ]);
  return [
    `## Idle host — the machine as it is (${idle.processes} processes), no workload, median of ${idle.tools.restartd.runs.length} runs`,
    '',
    table(['tool', 'wall', 'min–max', 'CPU', 'peak RSS', ''], rows),
    '',
    `restartd/checkrestart = ${idle.ratios['restartd/checkrestart'] == null ? '–' : `${idle.ratios['restartd/checkrestart'].toFixed(2)}×`}; restartd − node -e 0 = ${idle.ratios.overNodeMs == null ? '–' : fmtMs(idle.ratios.overNodeMs)} (\`restartd --version\` takes ${fmtMs(machine.restartdStartupMs)}); other processes used ${pct(idle.otherCpu)} of the CPUs${idle.otherCpu > 0.1 ? ' (NOISY)' : ''}.`,
  ];
}

function fmtX(v) {
  if (v == null) return '–';
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)}×`;
}

function fmtMs(ms) {
  if (ms == null) return '–';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)} ms`;
}

function fmtMb(kb) {
  return kb == null ? '–' : `${(kb / 1024).toFixed(0)} MB`;
}

function pct(x) {
  return x == null ? '–' : `${(x * 100).toFixed(x === 1 || x === 0 ? 0 : 1)}%`;
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function renderMarkdown(results) {
  const { config, machine, scan, diff, targets, idle } = results;
  const out = [];
  out.push(`# restartd benchmark — ${results.startedAt}`);
  out.push('');
  out.push(
    `${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memGb} GB RAM, Linux ${machine.kernel}, Node ${machine.node}; ` +
      `needrestart ${machine.versions.needrestart ?? '–'}, debian-goodies ${machine.versions['debian-goodies'] ?? '–'}, lsof ${machine.versions.lsof ?? '–'}. ` +
      `${machine.processesAtStart} processes on the host before any workload.`,
  );
  if (idle) out.push('', ...idleSection(idle, machine));
  if (scan.length) {
    const tools = config.tools;
    out.push('');
    out.push(`## Process scan — topology ${config.topology}, median of ${config.runs} runs (wall, each tool a separate process; RSS = peak of the tool's largest process)`);
    out.push('');
    const header = ['mode', 'N', 'stale/procs', 'tool', 'wall', 'min–max', 'peak RSS', 'CPU', 'recall', 'FP', 'outside', 'vs restartd'];
    const rows = [];
    for (const c of scan) {
      if (c.error) {
        rows.push([c.mode, c.n, '–', `error: ${c.error.slice(0, 100)}`, '', '', '', '', '', '', '', '']);
        continue;
      }
      tools.forEach((t, i) => {
        const r = c.tools[t];
        const lead = i === 0 ? [c.mode, c.n, `${c.workload.stale}/${c.workload.processes}`] : ['', '', ''];
        const label = t === 'floor' ? 'floor (C)' : t;
        if (!r) return;
        if (r.skipped) {
          rows.push([...lead, label, `skipped: ${r.skipped.slice(0, 70)}`, '', '', '', '', '', '', '']);
          return;
        }
        const a = r.accuracy;
        const vs =
          t === 'restartd' ? '' : t === 'floor' ? `restartd/floor = ${fmtX(c.ratios['restartd/floor'])}` : `${t}/restartd = ${fmtX(c.ratios[`${t}/restartd`])}`;
        rows.push([
          ...lead,
          label,
          r.runs.length ? fmtMs(r.wallMedianMs) : 'no successful run',
          r.runs.length ? `${fmtMs(r.wallMinMs)}–${fmtMs(r.wallMaxMs)}` : '',
          fmtMb(r.rssPeakKb),
          r.cpuMedianMs === 0 ? '<10 ms' : fmtMs(r.cpuMedianMs),
          a ? pct(a.recall) : r.accuracyError ? 'unreadable' : '–',
          a ? a.falsePositives : '–',
          a ? a.outside : '–',
          vs,
        ]);
      });
    }
    out.push(table(header, rows));
    const ok = scan.filter((c) => !c.error);
    if (ok.length) {
      out.push('');
      out.push(
        `Host during each case — processes in /proc at its start (workload + rest of the host: every tool scans them all), ` +
          `and the CPU the rest of the host used while the tools ran (share of all ${machine.cpus} CPUs): ` +
          ok.map((c) => `${c.mode}/${c.n}: ${c.workload.hostProcesses} procs, ${pct(c.workload.otherCpu)} CPU`).join('; ') +
          '.',
      );
      const noisy = ok
        .map((c) => {
          const reasons = [];
          if (c.workload.otherCpu > 0.1) reasons.push(`other processes used ${pct(c.workload.otherCpu)} of the CPUs`);
          const foreign = Math.max(c.workload.hostProcesses, c.workload.hostProcessesAfter ?? 0) - c.workload.processes;
          if (foreign > 500) reasons.push(`${foreign} processes besides the workload (every tool scanned them too)`);
          return reasons.length ? `${c.mode}/${c.n}: ${reasons.join(', ')}` : null;
        })
        .filter(Boolean);
      if (noisy.length) {
        out.push('');
        out.push(
          `NOISY — other work on this host: ${noisy.join('; ')}. ` +
            `Those rows are slower, more spread, or scan more than N processes: re-run on a quiet host before drawing conclusions.`,
        );
      }
    }
    const scanNotes = scan
      .filter((c) => !c.error && c.tools.restartd?.scanMs != null)
      .map((c) => `${c.mode}/${c.n}: ${c.tools.restartd.scanMs} ms (${fmtX(c.ratios['restartdScan/floor'])} floor)`);
    out.push('');
    out.push(
      `recall = stale workload processes flagged / stale workload processes; FP = non-stale workload processes flagged (supervisor included); ` +
        `outside = flagged processes that are not the workload's. Node startup alone (node -e 0): ${fmtMs(machine.nodeStartupMs)}. ` +
        (scanNotes.length ? `restartd's own scan time (scanned.durationMs): ${scanNotes.join('; ')}.` : ''),
    );
    const went = scan
      .filter((c) => !c.error && c.tools.restartd?.wallMedianMs != null && c.tools.restartd.scanMs != null)
      .map((c) => {
        const { wallMedianMs: total, scanMs } = c.tools.restartd;
        const startup = machine.restartdStartupMs ?? null;
        const rest = startup == null ? null : Math.max(0, total - startup - scanMs);
        return `${c.mode}/${c.n}: ${fmtMs(total)} = start-up ${fmtMs(startup)} + scan and match ${fmtMs(scanMs)} + plan, render and the rest ${fmtMs(rest)}`;
      });
    const perProcess = scan.filter((c) => !c.error && perProcessMs(c, machine) != null).map((c) => `${c.mode}/${c.n}: ${fmtUs(perProcessMs(c, machine))}`);
    if (perProcess.length) out.push('', `restartd's cost per process ((wall − node -e 0) / N): ${perProcess.join('; ')}.`);
    if (went.length) {
      out.push('', `Where restartd's time went (start-up = \`restartd --version\`, scan and match = scanned.durationMs, the rest = what remains of the median wall time): ${went.join('; ')}.`);
    }
    const slow = scan.flatMap((c) => Object.values(c.tools ?? {}).filter((r) => r.runs && r.plannedRuns < config.runs).map((r) => `${r.tool} at ${c.mode}/${c.n}: ${r.runs.length} runs`));
    if (slow.length) out.push('', `Fewer runs for slow tools (first run > 15 s): ${slow.join('; ')}.`);
    const failures = scan.flatMap((c) => Object.values(c.tools ?? {}).filter((r) => r.failures?.length).map((r) => `${r.tool} at ${c.mode}/${c.n}: ${r.failures.length} failed runs`));
    if (failures.length) out.push('', `Failed runs (left out of the medians): ${failures.join('; ')}.`);
    const parse = scan.flatMap((c) => Object.values(c.tools ?? {}).filter((r) => r.parseWarning).map((r) => `${r.tool} at ${c.mode}/${c.n}: ${r.parseWarning}`));
    if (parse.length) out.push('', `Parser warnings (recall/FP may be off): ${parse.join('; ')}.`);
    const died = scan.filter((c) => c.workload?.diedDuringBench);
    if (died.length) out.push('', `WARNING: workload processes died during the runs: ${died.map((c) => `${c.mode}/${c.n}: ${c.workload.diedDuringBench}`).join('; ')}.`);
  }
  if (targets.length) {
    out.push('');
    out.push(`## Targets (at N = ${TARGET_N}; scaling at the largest N; idle on the host as it is)`);
    out.push('');
    out.push(
      table(
        ['mode', 'N', 'target', 'value', 'met'],
        targets.map((t) => [t.mode, t.atTargetN ? t.n : `${t.n} (not ${TARGET_N})`, t.target, t.shown, t.met == null ? 'n/a' : t.met ? 'met' : 'NOT MET']),
      ),
    );
  }
  if (diff) {
    out.push('');
    out.push(`## Diff — two ${diff.truth?.files ?? '?'}-file trees (median of ${config.diffRuns} runs)`);
    out.push('');
    if (diff.error) {
      out.push(`error: ${diff.error}`);
    } else {
      out.push(...diffPairSection('NEW is OLD hardlinked (`cp -al`, as OSTree checks out) with the changes', diff, DIFF_TARGETS.hardlinks));
      if (diff.copies) out.push('', ...diffPairSection('NEW is a copy (`cp -a`) of the changed tree: no inode shared with OLD', diff.copies, DIFF_TARGETS.copies));
      out.push('');
      out.push(`Below 1× means restartd is faster. Trees in ${diff.root} (${diff.filesystem ?? '?'}), generated in ${fmtMs(diff.generateMs)}.`);
    }
  }
  out.push('');
  return out.join('\n');
}
