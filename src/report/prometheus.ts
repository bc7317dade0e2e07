import type { RebootTier } from '../types/status.js';
import type { StatusReport } from './status-json.js';

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  samples: Array<{ labels: Labels; value: number }>;
}

const TIERS: readonly RebootTier[] = ['restarts', 'daemon-reexec', 'soft-reboot', 'reboot'];

// Exposition format: label values escape backslash, double quote and newline.
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function sampleLine(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${Number.isFinite(value) ? String(value) : 'NaN'}`;
}

function generationFamilies(report: StatusReport): Family[] {
  const count: Family = { name: 'restartd_generations', help: 'Generations installed, per source.', samples: [] };
  const bytes: Family = { name: 'restartd_generation_bytes', help: 'Bytes of regular files of a generation, once per inode.', samples: [] };
  const unique: Family = { name: 'restartd_generation_unique_bytes', help: 'Bytes only this generation references: what removing it would free.', samples: [] };
  const shared: Family = { name: 'restartd_generation_shared_with_current_bytes', help: 'Bytes this generation shares with the current one.', samples: [] };
  const current: Family = { name: 'restartd_generation_current', help: '1 for the current generation of a source.', samples: [] };
  const reclaimable: Family = { name: 'restartd_generations_reclaimable_bytes', help: 'Bytes the generations other than the current one take on top of it.', samples: [] };
  for (const source of report.installed ?? []) {
    const base = { source: source.path, kind: source.kind };
    count.samples.push({ labels: base, value: source.generations.length });
    if (source.reclaimableBytes !== undefined) reclaimable.samples.push({ labels: base, value: source.reclaimableBytes });
    for (const g of source.generations) {
      const labels = { ...base, generation: g.name };
      current.samples.push({ labels, value: g.current ? 1 : 0 });
      if (g.bytes !== undefined) bytes.samples.push({ labels, value: g.bytes });
      if (g.uniqueBytes !== undefined) unique.samples.push({ labels, value: g.uniqueBytes });
      if (g.sharedWithCurrentBytes !== undefined) shared.samples.push({ labels, value: g.sharedWithCurrentBytes });
    }
  }
  return [count, current, bytes, unique, shared, reclaimable].filter((f) => f.samples.length > 0);
}

/**
 * `restartd status --prometheus`: gauges in the text exposition format, for node_exporter's
 * textfile collector (write to a `.prom` file, renamed into place). Pure.
 */
export function renderPrometheus(report: StatusReport, exitCode: number): string {
  const families: Family[] = [
    { name: 'restartd_status', help: 'restartd status exit code: 0 ok, 1 restarts needed, 2 reboot needed, 3 error.', samples: [{ labels: {}, value: exitCode }] },
    { name: 'restartd_stale_processes', help: 'Processes holding old files.', samples: [{ labels: {}, value: report.stale.length }] },
    { name: 'restartd_stale_owners', help: 'Owners (units, scopes, processes) with stale processes.', samples: [{ labels: {}, value: report.owners.length }] },
    {
      name: 'restartd_reboot_required',
      help: 'The least disruptive step that gets every process onto the installed files (1 for the tier needed).',
      samples: TIERS.map((tier) => ({ labels: { tier }, value: report.reboot.tier === tier ? 1 : 0 })),
    },
    {
      name: 'restartd_kernel_changed',
      help: '1 when a newer kernel is installed than the one running, -1 when unknown.',
      samples: [{ labels: {}, value: report.reboot.kernel.status === 'changed' ? 1 : report.reboot.kernel.status === 'unknown' ? -1 : 0 }],
    },
    { name: 'restartd_scanned_processes', help: 'Processes scanned.', samples: [{ labels: {}, value: report.scanned.processes }] },
    { name: 'restartd_unreadable_processes', help: 'Processes that could not be read fully.', samples: [{ labels: {}, value: report.scanned.unreadable }] },
    { name: 'restartd_scan_duration_seconds', help: 'How long the scan took.', samples: [{ labels: {}, value: report.scanned.durationMs / 1000 }] },
    ...generationFamilies(report),
  ];
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} gauge`);
    for (const s of family.samples) lines.push(sampleLine(family.name, s.labels, s.value));
  }
  return `${lines.join('\n')}\n`;
}
