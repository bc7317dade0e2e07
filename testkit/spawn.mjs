// spawn.mjs - start the daemons through the C spawner (c/spawn.c) and collect their PIDs.
import { spawn } from 'node:child_process';
import { source } from './compile.mjs';

/** Compile the spawner into the workload's tool dir; returns its path. */
export async function buildSpawner(ctx) {
  const out = `${ctx.tk}/bin/tk-spawn`;
  await ctx.cc(out, { inputs: [source('spawn.c')], flags: [] });
  return out;
}

/**
 * Start one daemon per command ([exe, ...args]) in the given topology and wait until every
 * one has reported ready. Resolves to { supervisor?: {pid, startTime}, daemons: [{pid,
 * startTime}] } (daemons in command order). On failure rejects with an Error whose
 * `started` lists the processes that did start (the spawner kills them too).
 */
export function spawnDaemons(spawner, topology, commands, logFile) {
  for (const c of commands) {
    if (c.some((a) => /[\t\n]/.test(a))) throw new Error(`testkit: tab or newline in a command: ${c.join(' ')}`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(spawner, [topology, logFile], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, // nothing else leaks in (LD_LIBRARY_PATH...)
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.stdin.on('error', () => { /* reported through the exit status */ });
    child.on('error', reject);
    child.on('close', (code) => {
      const daemons = new Array(commands.length);
      let supervisor;
      let failure = err.trim() || `tk-spawn exited with status ${code}`;
      for (const line of out.split('\n')) {
        const [tag, a, b, c] = line.split(' ');
        if (tag === 'D') daemons[Number(a)] = { pid: Number(b), startTime: Number(c) };
        else if (tag === 'OK' && Number(a) > 0) supervisor = { pid: Number(a), startTime: Number(b) };
        else if (tag === 'ERR') failure = line.slice(4);
      }
      const started = [...(supervisor ? [{ ...supervisor, role: 'supervisor' }] : []), ...daemons.filter(Boolean)];
      const complete = daemons.filter(Boolean).length === commands.length && (topology === 'tree') === !!supervisor;
      if (code === 0 && complete) {
        resolve({ supervisor, daemons });
      } else {
        reject(Object.assign(new Error(`testkit: starting the daemons failed: ${failure} (log: ${logFile})`), { started }));
      }
    });
    child.stdin.end(commands.map((c) => c.join('\t')).join('\n') + '\n');
  });
}
