import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEmitter } from 'eventemitter3';
import type { ExecuteEvents } from '../types/outcome.js';
import type { Phase } from '../types/plan.js';

/** Where a paused run says so: `STATE/test-paused` holds the pause point and the pid. */
export const TEST_PAUSED_FILE = 'test-paused';
const PAUSE_LIMIT_MS = 120_000;
const ROLLBACK = 'rollback-';

/**
 * For the crash tests only (RESTARTD_TEST_PAUSE_AFTER): freezes the run at a point where the
 * journal is on disk, so a test can SIGKILL it there. `plan`: the plan is written, nothing done;
 * a phase name: that phase's outcomes are written, the next phase (or verify) has not begun;
 * `submit:N`: the run's Nth job is written down, not yet submitted; `submitted:N`: it is queued in
 * systemd and its path written down, its end not awaited; `verify`: the re-scan is done, the first
 * unit's verdict not yet written.
 * A rollback's points: `rollback-begun` (recorded, the link not flipped yet), `rollback-flipped`
 * (the link flipped and recorded, nothing restarted onto the old generation), `rollback-restart`
 * (its restarts written, its verify not begun).
 * The freeze blocks the whole process (Atomics.wait), so nothing moves until the kill; it ends
 * by itself after two minutes.
 */
export function installTestPause(events: EventEmitter<ExecuteEvents>, pauseAfter: string | undefined, stateDir: string): void {
  if (pauseAfter === undefined || pauseAfter === '') return;
  const freeze = (): void => {
    writeFileSync(join(stateDir, TEST_PAUSED_FILE), `${pauseAfter} ${process.pid}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, PAUSE_LIMIT_MS);
  };
  if (pauseAfter === 'plan') {
    events.on('plan:built', freeze);
    return;
  }
  if (pauseAfter === 'verify') {
    events.once('verify:done', freeze);
    return;
  }
  const job = /^(submit|submitted):(\d+)$/.exec(pauseAfter);
  if (job !== null) {
    let n = 0;
    events.on(job[1] === 'submit' ? 'job:submitting' : 'job:submitted', () => {
      if (++n === Number(job[2])) freeze();
    });
    return;
  }
  if (pauseAfter === 'rollback-begun' || pauseAfter === 'rollback-flipped') {
    events.on(pauseAfter === 'rollback-begun' ? 'rollback:begun' : 'rollback:flipped', freeze);
    return;
  }
  // A rollback's phases count only once it has flipped the link.
  const rollbackPhase = pauseAfter.startsWith(ROLLBACK);
  let armed = !rollbackPhase;
  const point = rollbackPhase ? pauseAfter.slice(ROLLBACK.length) : pauseAfter;
  let current: Phase | undefined;
  if (rollbackPhase) {
    events.on('rollback:flipped', () => {
      armed = true;
      current = undefined;
    });
  }
  const boundary = (): void => {
    if (armed && current === point) freeze();
  };
  events.on('phase:start', (phase) => {
    boundary();
    current = phase;
  });
  events.on('verify:start', boundary);
}
