import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEmitter } from 'eventemitter3';
import type { ExecuteEvents } from '../types/outcome.js';
import type { Phase } from '../types/plan.js';

/** Where a paused run says so: `STATE/test-paused` holds the pause point and the pid. */
export const TEST_PAUSED_FILE = 'test-paused';
const PAUSE_LIMIT_MS = 120_000;

/**
 * For the crash tests only (RESTARTD_TEST_PAUSE_AFTER): freezes the run at a point where the
 * journal is on disk, so a test can SIGKILL it there. `plan`: the plan is written, nothing done;
 * a phase name: that phase's outcomes are written, the next phase (or verify) has not begun;
 * `submit:N`: the run's Nth job is written down, not yet submitted; `submitted:N`: it is queued in
 * systemd and its path written down, its end not awaited; `verify`: the re-scan is done, the first
 * unit's verdict not yet written.
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
  let current: Phase | undefined;
  const boundary = (): void => {
    if (current === pauseAfter) freeze();
  };
  events.on('phase:start', (phase) => {
    boundary();
    current = phase;
  });
  events.on('verify:start', boundary);
}
