import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SystemdSandbox } from '../systemd-sandbox.js';

/** Writes a unit file into the sandbox's /run/systemd/system (a daemon-reload makes systemd see it). */
export function writeUnit(sandbox: SystemdSandbox, name: string, lines: Record<string, string[]>): string {
  const text = Object.entries(lines)
    .map(([section, keys]) => `[${section}]\n${keys.join('\n')}\n`)
    .join('\n');
  const path = join(sandbox.unitDir, name);
  writeFileSync(path, text);
  return path;
}

export function removeUnit(sandbox: SystemdSandbox, name: string): void {
  rmSync(join(sandbox.unitDir, name), { force: true });
}

/** systemctl inside the sandbox; throws with its stderr when it fails. */
export async function systemctl(sandbox: SystemdSandbox, ...args: string[]): Promise<string> {
  const r = await sandbox.exec(['systemctl', ...args]);
  if (r.code !== 0) throw new Error(`systemctl ${args.join(' ')}: exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A unit property, through systemctl show (a second path to the truth, independent of the adapter). */
export async function unitProperty(sandbox: SystemdSandbox, unit: string, property: string): Promise<string> {
  return (await systemctl(sandbox, 'show', '-P', property, unit)).trim();
}

export async function mainPidOf(sandbox: SystemdSandbox, unit: string): Promise<number> {
  return Number(await unitProperty(sandbox, unit, 'MainPID'));
}

/** The host PIDs in a unit's cgroup (read from the host's cgroup2 tree). */
export function hostPidsOfUnit(sandbox: SystemdSandbox, cgroupRoot: string, unit: string): number[] {
  const dir = join(cgroupRoot, sandbox.cgroupPrefix, 'system.slice', unit);
  const pids: number[] = [];
  const walk = (path: string): void => {
    pids.push(...readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
    for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory()) walk(join(path, entry.name));
  };
  walk(dir);
  return pids.sort((a, b) => a - b);
}
