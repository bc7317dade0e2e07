// A simulated fleet host for tests/fleet-semaphore.test.ts: one process that restarts a real child
// process of its own while holding a fleet slot, through the gate restartd's executor uses
// (dist/fleet, so `npm run build` first). Appends JSON lines to LOG: ready, waiting, acquired,
// restarted, released, with Date.now() timestamps.
//
// usage: node fleet-host.mjs '{"endpoints":[...],"host":"h1","group":"app","slots":1,"ttl":2,"holdMs":800,"log":"/tmp/x"}'
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { EtcdSemaphore } from '../../dist/fleet/etcd-semaphore.js';
import { createFleetGate } from '../../dist/fleet/fleet-gate.js';
import { FleetConfigSchema } from '../../dist/config/fleet-schema.js';

const args = JSON.parse(process.argv[2]);
const log = (kind, extra = {}) => appendFileSync(args.log, `${JSON.stringify({ host: args.host, kind, t: Date.now(), ...extra })}\n`);
const exited = (child) => new Promise((resolve) => child.once('exit', resolve));

let child = spawn('sleep', ['infinity'], { stdio: 'ignore' });
const semaphore = await EtcdSemaphore.connect({ endpoints: args.endpoints }, args.ttl);
const config = FleetConfigSchema.parse({ slots: args.slots, leaseTtlSeconds: args.ttl, waitTimeoutSeconds: 60, groups: [{ match: 'app-*', group: args.group }] });
const gate = createFleetGate({ config, host: args.host, semaphore, onWarning: (m) => log('warning', { message: m }) });
const action = { owner: { kind: 'system-unit', name: `app-${args.host}.service` }, action: 'restart', reason: 'test', pids: [child.pid], phase: 'restart', unit: `app-${args.host}.service` };
log('ready', { pid: process.pid, child: child.pid });

const group = gate.groupOf(action);
const hold = await gate.acquire(group, action, (holders) => log('waiting', { holders: holders.map((h) => h.host) }), () => {});
log('acquired', { slot: hold.slot, group, child: child.pid });
// The restart: the old process goes, the new one comes up after a while.
const old = child;
old.kill('SIGTERM');
await exited(old);
await new Promise((resolve) => setTimeout(resolve, args.holdMs));
child = spawn('sleep', ['infinity'], { stdio: 'ignore' });
log('restarted', { old: old.pid, child: child.pid });
// Logged before the release: the next holder cannot start before this line is written.
log('released', { slot: hold.slot });
await hold.release();
child.kill('SIGTERM');
await gate.close();
process.exit(0);
