// Small statistics and accuracy helpers.

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function min(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return v.length ? Math.min(...v) : null;
}

export function max(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return v.length ? Math.max(...v) : null;
}

/** a / b, or null when either is unknown or b is 0. */
export function ratio(a, b) {
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null;
}

/**
 * Accuracy of one tool's flagged PIDs against the workload's ground truth.
 * `processes`: the workload's `{ pid, stale, role }[]` (supervisor included, never stale).
 */
export function accuracy(processes, flagged) {
  const flaggedSet = new Set(flagged);
  const inWorkload = new Set(processes.map((p) => p.pid));
  const stale = processes.filter((p) => p.stale);
  const hits = stale.filter((p) => flaggedSet.has(p.pid));
  const falsePositives = processes.filter((p) => !p.stale && flaggedSet.has(p.pid));
  const outside = [...flaggedSet].filter((pid) => !inWorkload.has(pid));
  return {
    stale: stale.length,
    flagged: flaggedSet.size,
    truePositives: hits.length,
    recall: stale.length ? hits.length / stale.length : null,
    falsePositives: falsePositives.length,
    falsePositiveRoles: countBy(falsePositives.map((p) => p.role)),
    missedRoles: countBy(stale.filter((p) => !flaggedSet.has(p.pid)).map((p) => p.role)),
    outside: outside.length,
    outsidePids: outside.sort((a, b) => a - b).slice(0, 50),
  };
}

function countBy(list) {
  const counts = {};
  for (const item of list) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}
