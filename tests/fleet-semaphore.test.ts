import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestartdError } from '../src/errors.js';
import { EtcdSemaphore } from '../src/fleet/etcd-semaphore.js';
import { startEtcdCluster, type EtcdCluster } from './support/etcd-cluster.js';

// Simulated hosts are separate processes (tests/support/fleet-host.mjs, on dist/), each restarting
// a real child process of its own under a fleet slot, against a real 3-member etcd cluster.
const HOST = fileURLToPath(new URL('./support/fleet-host.mjs', import.meta.url));
const TTL = 2;

let cluster: EtcdCluster;
let tmp: string;
const spawned: ChildProcess[] = [];

interface LogLine {
  host: string;
  kind: 'ready' | 'waiting' | 'acquired' | 'restarted' | 'released' | 'warning';
  t: number;
  slot?: number;
  child?: number;
  holders?: string[];
}

beforeAll(async () => {
  expect(existsSync('/usr/bin/etcd'), 'etcd-server is installed by scripts/install-test-deps').toBe(true);
  cluster = await startEtcdCluster();
  tmp = mkdtempSync(join(tmpdir(), 'restartd-fleet-'));
});

afterAll(async () => {
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cluster?.stop();
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

function startHost(options: { host: string; group: string; slots: number; holdMs: number; log: string }): ChildProcess {
  const args = { endpoints: cluster.endpoints.split(','), ttl: TTL, ...options };
  const child = spawn(process.execPath, [HOST, JSON.stringify(args)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`fleet host ${options.host} exited ${code}: ${stderr}`);
  });
  spawned.push(child);
  return child;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function readLog(path: string): LogLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as LogLine);
}

async function waitForLog(path: string, pick: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = readLog(path).find(pick);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no matching line in ${path} within ${timeoutMs} ms: ${readFileSync(path, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The most holders at once, from acquired/released intervals. A host logs `acquired` after etcd
 * granted the slot and `released` before giving it back: each logged interval lies inside the
 * real one, so an overlap here is a real one.
 */
function maxConcurrency(lines: LogLine[]): number {
  const edges = lines.filter((l) => l.kind === 'acquired' || l.kind === 'released').map((l) => ({ t: l.t, d: l.kind === 'acquired' ? 1 : -1 }));
  // At equal times a release counts first: the slot was free when the next one took it.
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const edge of edges) max = Math.max(max, (now += edge.d));
  return max;
}

async function rollout(group: string, slots: number, hosts: number, holdMs: number, during?: (log: string) => Promise<void>): Promise<LogLine[]> {
  const log = join(tmp, `${group}.jsonl`);
  const children = Array.from({ length: hosts }, (_, i) => startHost({ host: `h${i}`, group, slots, holdMs, log }));
  await during?.(log);
  const codes = await Promise.all(children.map(exitOf));
  expect(codes).toEqual(children.map(() => 0));
  return readLog(log);
}

describe('fleet semaphore on a real etcd cluster, hosts as separate processes', () => {
  // K=1 with the real CLI: tests/fleet-cli.test.ts (and the leader-kill case below).
  it('K=2: four hosts, at most two restart at once, and two do; the others wait', async () => {
    const lines = await rollout('k2', 2, 4, 700);
    expect(lines.filter((l) => l.kind === 'restarted')).toHaveLength(4);
    expect(lines.some((l) => l.kind === 'waiting')).toBe(true);
    expect(maxConcurrency(lines)).toBe(2);
    expect(new Set(lines.filter((l) => l.kind === 'acquired').map((l) => l.slot))).toEqual(new Set([0, 1]));
  });

  it('a host killed with SIGKILL while holding the slot frees it within the lease TTL', async () => {
    const log = join(tmp, 'killed.jsonl');
    const holder = startHost({ host: 'victim', group: 'killed', slots: 1, holdMs: 60_000, log });
    await waitForLog(log, (l) => l.host === 'victim' && l.kind === 'acquired');
    const waiter = startHost({ host: 'next', group: 'killed', slots: 1, holdMs: 100, log });
    const waiting = await waitForLog(log, (l) => l.host === 'next' && l.kind === 'waiting');
    expect(waiting.holders).toEqual(['victim']);
    const killedAt = Date.now();
    holder.kill('SIGKILL');
    await exitOf(holder);
    expect(await exitOf(waiter)).toBe(0);
    const acquired = readLog(log).find((l) => l.host === 'next' && l.kind === 'acquired');
    expect(acquired).toBeDefined();
    const freedAfter = (acquired?.t ?? 0) - killedAt;
    expect(freedAfter).toBeGreaterThan(0);
    // TTL plus the keepalive already sent (up to TTL/3 ahead) and a margin for the cluster.
    expect(freedAfter).toBeLessThan(TTL * 1000 + 1500);
  });

  it('the etcd leader killed mid-rollout: the rollout completes, still one at a time', async () => {
    let killed = -1;
    const lines = await rollout('member', 1, 3, 500, async (log) => {
      await waitForLog(log, (l) => l.kind === 'acquired');
      killed = await cluster.leader();
      await cluster.killMember(killed);
    });
    expect(killed).toBeGreaterThanOrEqual(0);
    expect(lines.filter((l) => l.kind === 'restarted')).toHaveLength(3);
    expect(maxConcurrency(lines)).toBe(1);
    await cluster.startMember(killed);
  });

  it('no etcd reachable: a FLEET error naming every endpoint', async () => {
    const endpoints = ['http://127.0.0.1:9', 'http://127.0.0.1:11'];
    const error = await EtcdSemaphore.connect({ endpoints }, TTL).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestartdError);
    expect((error as RestartdError).code).toBe('FLEET');
    expect((error as Error).message).toContain('etcd unreachable at http://127.0.0.1:9, http://127.0.0.1:11');
  });

  it('holders read back from etcd are parsed: a foreign value is left out', async () => {
    const semaphore = await EtcdSemaphore.connect({ endpoints: cluster.endpoints.split(',') }, TTL);
    try {
      const held = await semaphore.acquire('parsed', { slots: 2, value: { host: 'me', pid: process.pid, unit: 'a.service', since: 'now' }, waitTimeoutMs: 5000 });
      const { Etcd3 } = await import('etcd3');
      const raw = new Etcd3({ hosts: cluster.endpoints.split(',') });
      await raw.put('/restartd/fleet/parsed/slots/1').value('{"host": 42}');
      expect(await semaphore.holders('parsed')).toEqual([{ host: 'me', slot: held.slot, unit: 'a.service', since: 'now' }]);
      await raw.delete().key('/restartd/fleet/parsed/slots/1');
      raw.close();
      await held.release();
      expect(await semaphore.holders('parsed')).toEqual([]);
    } finally {
      await semaphore.close();
    }
  });
});
