export { DEFAULT_STATE_DIR } from './state-dir.js';
export { lastRuns, type RunSummary, type RunUnitResult } from './last-runs.js';
export { ALREADY_DONE, isAlreadyDone, SwitchJournal } from './switch-journal.js';
export { acquireStateLock, liveLockHolder, type LockAttempt, type LockHolder, type StateLock } from './state-lock.js';
export { switchKey } from './journal-records.js';
