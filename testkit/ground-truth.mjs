// ground-truth.mjs - which processes are stale and why: filled in from the design (each
// role holds known files; the layout knows which of them generation 2 changed), then checked
// against what /proc shows, judged by the layout from disk alone.
import { filesOf, startTimeOf } from './proc.mjs';

/** Set `stale` and `reasons` of every process from the layout's design. */
export function fillGroundTruth(processes, layout) {
  for (const p of processes) {
    p.reasons = p.role === 'supervisor' ? [] : layout.reasons(p.role);
    p.stale = p.reasons.length > 0;
  }
}

/**
 * Read maps, fds and exe of every process and check that the stale files /proc shows are
 * exactly the ground truth's reasons: every reason is there (as "(deleted)" for inplace), and
 * nothing else the process holds changed (clean processes hold no changed file). Throws an
 * Error naming the first differences.
 */
export async function verifyGroundTruth(processes, layout, { root, mode }) {
  const judge = await layout.staleJudge();
  const problems = [];
  for (const p of processes) {
    const who = `pid ${p.pid} (${p.role})`;
    if (startTimeOf(p.pid) !== p.startTime) {
      problems.push(`${who} is gone`);
      continue;
    }
    let files;
    try {
      files = filesOf(p.pid);
    } catch (e) {
      problems.push(`${who}: cannot read /proc: ${e.code ?? e.message}`);
      continue;
    }
    const seen = new Set();
    for (const f of files) {
      if (f.deleted && mode !== 'inplace' && f.path.startsWith(`${root}/`)) {
        problems.push(`${who}: ${f.path} is deleted, but ${mode} mode deletes nothing`);
      }
      if (await judge(f)) seen.add(f.path);
    }
    const missing = p.reasons.filter((r) => !seen.has(r));
    const extra = [...seen].filter((s) => !p.reasons.includes(s));
    if (missing.length) problems.push(`${who}: /proc does not show stale ${missing.join(', ')}`);
    if (extra.length) problems.push(`${who}: holds changed ${extra.join(', ')} not in the ground truth`);
  }
  if (problems.length) {
    const more = problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : '';
    throw new Error(`testkit: ground truth disagrees with /proc (${problems.length} problems):\n  ${problems.slice(0, 20).join('\n  ')}${more}`);
  }
}
