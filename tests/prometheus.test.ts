import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { renderPrometheus } from '../src/report/prometheus.js';
import type { StatusReport } from '../src/report/status-json.js';

interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value: string; labels?: Record<string, string> }>;
}

// A real parser of the exposition format (prom2json-compatible output), CommonJS without types.
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

const report: StatusReport = {
  version: 1,
  scanned: { processes: 120, unreadable: 2, vanished: 0, durationMs: 42 },
  unreadable: [],
  stale: [
    { pid: 7, ppid: 1, startTime: 1, uid: 0, comm: 'nginx', exe: '/usr/sbin/nginx', owner: { kind: 'system-unit', name: 'nginx.service' }, files: [] },
    { pid: 8, ppid: 7, startTime: 2, uid: 33, comm: 'nginx', exe: '/usr/sbin/nginx', owner: { kind: 'system-unit', name: 'nginx.service' }, files: [] },
  ],
  owners: [{ kind: 'system-unit', name: 'nginx.service', pids: [7, 8] }],
  reboot: {
    tier: 'reboot',
    reasons: [{ code: 'kernel-changed', running: '6.1.0-18-amd64', newest: '6.1.0-21-amd64', from: '/lib/modules' }],
    kernel: { status: 'changed', running: '6.1.0-18-amd64', newest: '6.1.0-21-amd64' },
  },
  installed: [
    {
      kind: 'deployments',
      path: '/ostree/deploy/"odd"\\os\nname/deploy',
      reclaimableBytes: 750,
      generations: [
        { name: 'a.0', path: '/x/a.0', current: true, booted: true, bytes: 310, uniqueBytes: 10, sharedWithCurrentBytes: 310 },
        { name: 'b.0', path: '/x/b.0', current: false, booted: false, bytes: 650, uniqueBytes: 300, sharedWithCurrentBytes: 300 },
        { name: 'c.0', path: '/x/c.0', current: false, error: 'EACCES' },
      ],
    },
  ],
};

function values(families: ParsedFamily[], name: string): Array<[Record<string, string>, number]> {
  const family = families.find((f) => f.name === name);
  return (family?.metrics ?? []).map((m) => [m.labels ?? {}, Number(m.value)]);
}

describe('restartd status --prometheus', () => {
  const text = renderPrometheus(report, 2);
  const families = parse(text);

  it('every family has HELP and a gauge TYPE', () => {
    expect(families.length).toBeGreaterThan(8);
    for (const family of families) {
      expect(family.help).not.toBe('');
      expect(family.type).toBe('GAUGE');
    }
    expect(text.endsWith('\n')).toBe(true);
  });

  it('counts stale processes and owners, the exit code and the scan', () => {
    expect(values(families, 'restartd_stale_processes')).toEqual([[{}, 2]]);
    expect(values(families, 'restartd_stale_owners')).toEqual([[{}, 1]]);
    expect(values(families, 'restartd_status')).toEqual([[{}, 2]]);
    expect(values(families, 'restartd_scanned_processes')).toEqual([[{}, 120]]);
    expect(values(families, 'restartd_unreadable_processes')).toEqual([[{}, 2]]);
    expect(values(families, 'restartd_scan_duration_seconds')).toEqual([[{}, 0.042]]);
    expect(values(families, 'restartd_kernel_changed')).toEqual([[{}, 1]]);
  });

  it('one reboot_required series per tier, 1 for the tier needed', () => {
    expect(values(families, 'restartd_reboot_required')).toEqual([
      [{ tier: 'restarts' }, 0],
      [{ tier: 'daemon-reexec' }, 0],
      [{ tier: 'soft-reboot' }, 0],
      [{ tier: 'reboot' }, 1],
    ]);
  });

  it('disk per generation, with label values escaped so they parse back unchanged', () => {
    const source = '/ostree/deploy/"odd"\\os\nname/deploy';
    const labels = (generation: string) => ({ source, kind: 'deployments', generation });
    expect(values(families, 'restartd_generation_unique_bytes')).toEqual([
      [labels('a.0'), 10],
      [labels('b.0'), 300],
    ]);
    expect(values(families, 'restartd_generation_shared_with_current_bytes')).toEqual([
      [labels('a.0'), 310],
      [labels('b.0'), 300],
    ]);
    expect(values(families, 'restartd_generation_current')).toEqual([
      [labels('a.0'), 1],
      [labels('b.0'), 0],
      [labels('c.0'), 0],
    ]);
    expect(values(families, 'restartd_generations')).toEqual([[{ source, kind: 'deployments' }, 3]]);
    expect(values(families, 'restartd_generations_reclaimable_bytes')).toEqual([[{ source, kind: 'deployments' }, 750]]);
  });

  it('leaves generation families out when there are no generations', () => {
    const { installed: _installed, ...bare } = report;
    const names = parse(renderPrometheus(bare, 1)).map((f) => f.name);
    expect(names).not.toContain('restartd_generation_unique_bytes');
    expect(names).toContain('restartd_reboot_required');
  });
});
