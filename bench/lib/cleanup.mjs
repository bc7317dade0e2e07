// Cleanup that runs whatever happens: normal end, error, ctrl-c (SIGINT), SIGTERM, SIGHUP.
import { currentChild, killGroup } from './exec.mjs';

const tasks = new Map(); // id -> { label, fn }
let nextId = 1;
let shuttingDown = false;

/** Registers an async cleanup; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(label, fn) {
  const id = nextId++;
  tasks.set(id, { label, fn });
  return async () => {
    const task = tasks.get(id);
    if (!task) return;
    tasks.delete(id);
    await task.fn();
  };
}

/** Runs every registered cleanup, newest first; failures are reported, not thrown. */
export async function runAllCleanups(log = (m) => process.stderr.write(`${m}\n`)) {
  const pending = [...tasks.entries()].reverse();
  tasks.clear();
  for (const [, { label, fn }] of pending) {
    try {
      await fn();
    } catch (error) {
      log(`bench: cleanup of ${label} failed: ${error?.message ?? error}`);
    }
  }
}

export function isShuttingDown() {
  return shuttingDown;
}

/** The exit code the bench must end with after a signal (128 + signo), or null. */
let signalExitCode = null;
export function signalExit() {
  return signalExitCode;
}

/**
 * On a signal: stop the tool being timed (the bench's own child, by its process group id), run the
 * cleanups registered so far, and let the bench unwind: every stage checks isShuttingDown() and throws,
 * and run.mjs runs the cleanups registered since, then exits with 128+signo. A second signal, or a bench
 * that has not ended 120 s later, exits at once.
 */
export function installSignalHandlers(log = (m) => process.stderr.write(`${m}\n`)) {
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  for (const [signal, code] of Object.entries(codes)) {
    process.on(signal, () => {
      if (shuttingDown) {
        log(`bench: ${signal} again, exiting without finishing cleanup`);
        process.exit(code);
      }
      shuttingDown = true;
      signalExitCode = code;
      log(`\nbench: ${signal}: stopping and cleaning up workloads…`);
      killGroup(currentChild());
      runAllCleanups(log);
      setTimeout(() => {
        log('bench: still not finished 120 s after the signal, exiting');
        process.exit(code);
      }, 120_000).unref();
    });
  }
}
