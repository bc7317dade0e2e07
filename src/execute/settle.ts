import type { SystemdManager, UnitState } from '../types/systemd.js';
import { readUnitJournal } from '../systemd/unit-journal.js';
import type { Outcome } from '../types/outcome.js';

const POLL_MS = 100;

/** Where a unit stood when its (re)start job was done: what its settling is compared with. */
export interface SettleStart {
  state: UnitState;
  /** Date.now() when its job was queued: its journal is read from then. */
  queuedAtMs: number;
  /** The manager that ran the job (the system's, or a user's). */
  manager: SystemdManager;
}

/** Why a unit that systemd reported started is not running (undefined: it is, or may still be). */
function deadState(state: UnitState, start: UnitState, settled: boolean): string | undefined {
  if (state.nRestarts > start.nRestarts) return `restarted by systemd ${state.nRestarts - start.nRestarts} time(s) since (Restart= loop)`;
  if (state.subState === 'auto-restart') return 'waiting to be restarted by systemd (auto-restart)';
  if (state.activeState === 'failed') return 'failed';
  // A oneshot without RemainAfterExit is inactive once it ran: that is success.
  const ranOnce = state.type === 'oneshot' && state.result === 'success';
  if (state.activeState === 'inactive' && !ranOnce) return 'inactive';
  if (settled && !['active', 'reloading'].includes(state.activeState) && !ranOnce) return `still ${state.activeState}, not active`;
  return undefined;
}

function exitText(state: UnitState): string {
  const how = { 1: 'exited with status', 2: 'killed by signal', 3: 'dumped core, signal' }[state.execMainCode];
  return `Result=${state.result || 'unknown'}${how === undefined ? '' : `, main process ${how} ${state.execMainStatus}`} (ExecMainStatus=${state.execMainStatus})`;
}

/**
 * After a done (re)start or reload, the unit must be active and stay so for `settleMs`: one that went
 * failed or inactive, waits for an automatic restart, or was restarted by systemd meanwhile (NRestarts
 * grew) is UNIT_FAILED, with its Result and exit status and the first lines it logged. A Type=notify
 * unit that is active is done at once: its job ended only when it said it was ready.
 */
export async function settleOutcome(outcome: Outcome, from: SettleStart, manager: SystemdManager, settleMs: number): Promise<Outcome> {
  const deadline = performance.now() + settleMs;
  let state = from.state;
  for (;;) {
    const settled = performance.now() >= deadline;
    const dead = deadState(state, from.state, settled);
    if (dead !== undefined) return unitFailed(outcome, state, dead, from, manager, settleMs);
    if (settled || (state.type.startsWith('notify') && state.activeState === 'active')) return outcome;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(1, deadline - performance.now()))));
    try {
      state = await manager.unitState(outcome.unit);
    } catch {
      // The bus went away while it settles: asked again on a fresh connection, else the job's word stands.
      try {
        await manager.reconnect();
        state = await manager.unitState(outcome.unit);
      } catch {
        return outcome;
      }
    }
  }
}

async function unitFailed(outcome: Outcome, state: UnitState, dead: string, from: SettleStart, manager: SystemdManager, settleMs: number): Promise<Outcome> {
  const read = (): Promise<string[]> => readUnitJournal(outcome.unit, { rootPrefix: manager.process?.rootPrefix ?? '', sinceMs: from.queuedAtMs });
  let journal = await read();
  // What it wrote just before it died may still be on its way to journald.
  if (journal.length === 0) journal = await new Promise((resolve) => setTimeout(resolve, 300)).then(read);
  const cause = `${outcome.unit} is ${state.activeState} (${state.subState}) within ${settleMs} ms of its job: ${dead}; ${exitText(state)}`;
  return { ...outcome, ok: false, code: 'UNIT_FAILED', cause, ...(journal.length > 0 ? { journal } : {}) };
}
