import type { EventEmitter } from 'eventemitter3';
import { manifestLimitsOf } from '../config/manifest-limits.js';
import { detectStale, type Detection } from '../detect.js';
import type { ChangeSet } from '../types/generation.js';
import type { Plan } from '../types/plan.js';
import type { RollbackArmed } from '../types/rollback.js';
import { buildStaleReport, type StaleReport } from '../report/stale-json.js';
import type { Config } from '../config/schema.js';
import { RestartdError } from '../errors.js';
import type { RunEvents } from './events.js';
import type { RunRequest } from './request.js';
import { resolveConfig } from './resolve-config.js';

/** `restartd plan`'s result: the `plan --json` object (its `actions` included), and the plan behind it. */
export interface PlanRunResult {
  report: StaleReport;
  plan: Plan;
  /** Also emitted as `warning` events: registrations ignored, no unit facts and why. */
  warnings: string[];
}

/** The ChangeSet of a request's generations, or undefined for the live scan. */
export async function changeSetOf(request: Pick<RunRequest, 'old' | 'new' | 'source' | 'storeDir'>, command: string, config?: Config): Promise<ChangeSet | undefined> {
  if (request.old === undefined && request.new === undefined) return undefined;
  if (request.old === undefined || request.new === undefined) throw new RestartdError('USAGE', `${command} needs --old OLD and --new NEW (or neither: the live scan)`);
  const { diffGenerations } = await import('../generation/index.js');
  return diffGenerations(request.old, request.new, {
    ...(request.source === undefined ? {} : { source: request.source }),
    ...(request.storeDir === undefined ? {} : { storeDir: request.storeDir }),
    manifestLimits: manifestLimitsOf(config),
  });
}

/** Detects against a ChangeSet (or the live system alone) and builds the stale report. */
export async function detectReport(request: Pick<RunRequest, 'procRoot' | 'scratchDirs'>, changeSet: ChangeSet | undefined, config: Config | undefined): Promise<{ detection: Detection; report: StaleReport }> {
  const scratchDirs = request.scratchDirs ?? config?.scratchDirs;
  const detection = await detectStale({
    changeSet,
    ...(request.procRoot === undefined ? {} : { procRoot: request.procRoot }),
    ...(scratchDirs === undefined ? {} : { scratchDirs }),
    compareMaxBytes: config?.limits?.compareMaxBytes,
    maxHeldFiles: config?.limits?.heldFilesPerProcess,
  });
  return { detection, report: buildStaleReport({ ...detection, changeSet }) };
}

/**
 * The stale processes after a switch from `old` to `new` (without them: on the live system) and the
 * action per owner, decided with unit facts from the bus when it answers.
 */
export async function runPlan(request: RunRequest, events?: EventEmitter<RunEvents>): Promise<PlanRunResult> {
  const config = await resolveConfig(request.config);
  const changeSet = await changeSetOf(request, 'plan', config);
  const { detection, report } = await detectReport(request, changeSet, config);
  const { planWithOptionalManager } = await import('./plan-actions.js');
  const planned = await planWithOptionalManager(detection.stale, config, request.busAddress, { dirs: request.awareDirs, procRoot: request.procRoot });
  for (const warning of planned.warnings) events?.emit('warning', warning);
  report.actions = planned.plan.actions;
  const warnings = [...planned.warnings];
  const armed = await rollbackArmedOf(request, config, planned.plan, (message) => {
    warnings.push(message);
    events?.emit('warning', message);
  });
  if (armed !== undefined) report.rollback = armed;
  return { report, plan: planned.plan, warnings };
}

/** With rollback armed (--link LINK --rollback, or the config's rollback.on): what it would do; refused as `apply` refuses it. */
async function rollbackArmedOf(request: RunRequest, config: Config, plan: Plan, warn: (message: string) => void): Promise<RollbackArmed | undefined> {
  if (request.rollback !== true && (request.rollback === false || config.rollback?.on !== 'failure')) return undefined;
  const [{ rollbackOption }, { armedRollback }] = await Promise.all([import('./rollback-option.js'), import('./rollback-armed.js')]);
  const how = rollbackOption(request, config, warn);
  return how === undefined || request.old === undefined || request.new === undefined ? undefined : armedRollback(how, request.old, request.new, plan);
}
