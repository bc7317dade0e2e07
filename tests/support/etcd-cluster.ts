/**
 * A real etcd for the fleet tests: Debian's etcd-server (scripts/install-test-deps) run as a
 * 3-member cluster on loopback, free ports, one temp data dir per member. `stop()` kills every
 * member and removes the dirs; call it in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process: ChildProcess | undefined;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** Every member's client URL, comma-separated: the value of --fleet. */
  endpoints: string;
  /** The index of the member that leads now (from each member's maintenance status). */
  leader(): Promise<number>;
  /** Kills one member (SIGKILL), as a crash would. */
  killMember(index: number): Promise<void>;
  /** Starts a killed member again with its data dir; resolves once it answers. */
  startMember(index: number): Promise<void>;
  stop(): Promise<void>;
}

const ETCD = '/usr/bin/etcd';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function healthy(clientUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

async function statusOf(clientUrl: string): Promise<{ leader: string; member: string } | undefined> {
  try {
    const response = await fetch(`${clientUrl}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { leader?: string; header?: { member_id?: string } };
    return body.leader === undefined || body.header?.member_id === undefined ? undefined : { leader: body.leader, member: body.header.member_id };
  } catch {
    return undefined;
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`etcd cluster: ${what} not within ${timeoutMs} ms`);
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts the cluster and resolves once every member reports healthy. */
export async function startEtcdCluster(size = 3): Promise<EtcdCluster> {
  const root = mkdtempSync(join(tmpdir(), 'restartd-etcd-'));
  const members: EtcdMember[] = [];
  for (let i = 0; i < size; i++) {
    members.push({ name: `m${i}`, clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}`, dataDir: join(root, `m${i}`), process: undefined });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const token = `restartd-test-${process.pid}-${Date.now()}`;

  const launch = (member: EtcdMember): void => {
    const log = openSync(join(root, `${member.name}.log`), 'a');
    member.process = spawn(
      ETCD,
      [
        '--name', member.name,
        '--data-dir', member.dataDir,
        '--listen-client-urls', member.clientUrl,
        '--advertise-client-urls', member.clientUrl,
        '--listen-peer-urls', member.peerUrl,
        '--initial-advertise-peer-urls', member.peerUrl,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', token,
        // Fast elections: a killed leader is replaced within about a second.
        '--heartbeat-interval', '50',
        '--election-timeout', '500',
        '--logger', 'zap',
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
  };

  const stopAll = async (): Promise<void> => {
    await Promise.all(
      members.map(async (m) => {
        const child = m.process;
        if (child === undefined) return;
        child.kill('SIGKILL');
        await exited(child);
        m.process = undefined;
      }),
    );
    rmSync(root, { recursive: true, force: true });
  };

  try {
    for (const member of members) launch(member);
    await until(async () => (await Promise.all(members.map((m) => healthy(m.clientUrl)))).every(Boolean), 20_000, 'all members healthy');
  } catch (error) {
    await stopAll();
    throw error;
  }

  return {
    members,
    endpoints: members.map((m) => m.clientUrl).join(','),
    async leader() {
      for (let attempt = 0; attempt < 50; attempt++) {
        const statuses = await Promise.all(members.map((m) => (m.process === undefined ? undefined : statusOf(m.clientUrl))));
        const leaderId = statuses.find((s) => s !== undefined)?.leader;
        const index = statuses.findIndex((s) => s !== undefined && s.member === leaderId);
        if (index >= 0) return index;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('etcd cluster: no leader');
    },
    async killMember(index) {
      const member = members[index];
      const child = member?.process;
      if (member === undefined || child === undefined) return;
      child.kill('SIGKILL');
      await exited(child);
      member.process = undefined;
    },
    async startMember(index) {
      const member = members[index];
      if (member === undefined || member.process !== undefined) return;
      launch(member);
      await until(() => healthy(member.clientUrl), 10_000, `${member.name} healthy again`);
    },
    stop: stopAll,
  };
}
