// Loaded into a restartd process by the crash tests (NODE_OPTIONS=--import=…, see test-pause.ts):
// freezes the run at RESTARTD_TEST_PAUSE_AFTER, a point where the journal is on disk, so the test
// can SIGKILL it there. The run publishes itself on the `restartd:run` diagnostics channel; nothing
// of this lives in the product.
//
// Points: `plan` (the plan is written, nothing done); a phase name (that phase's outcomes are
// written, the next phase or verify has not begun); `submit:N` (the run's Nth job is written down,
// not yet submitted); `submitted:N` (it is queued in systemd and its path written down, its end not
// awaited); `verify` (the re-scan is done, the first unit's verdict not yet written); a rollback's
// `rollback-begun` (recorded, the link not flipped yet), `rollback-flipped` (flipped and recorded,
// nothing restarted onto the old generation) and `rollback-PHASE` (its restarts written, its verify
// not begun). The freeze blocks the whole process (Atomics.wait), so nothing moves until the kill;
// it ends by itself after two minutes.
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PAUSED_FILE = 'test-paused';
const PAUSE_LIMIT_MS = 120_000;
const ROLLBACK = 'rollback-';

function install(events, pauseAfter, stateDir) {
  const freeze = () => {
    writeFileSync(join(stateDir, PAUSED_FILE), `${pauseAfter} ${process.pid}\n`);
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
  let current;
  if (rollbackPhase) {
    events.on('rollback:flipped', () => {
      armed = true;
      current = undefined;
    });
  }
  const boundary = () => {
    if (armed && current === point) freeze();
  };
  events.on('phase:start', (phase) => {
    boundary();
    current = phase;
  });
  events.on('verify:start', boundary);
}

const pauseAfter = process.env.RESTARTD_TEST_PAUSE_AFTER;
if (pauseAfter !== undefined && pauseAfter !== '') {
  subscribe('restartd:run', ({ events, stateDir }) => install(events, pauseAfter, stateDir));
}
