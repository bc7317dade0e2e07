import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { DEFAULT_CONFIG_PATH } from '../config/paths.js';
import { detectStale } from '../detect.js';
import type { ChangeSet } from '../generation/types.js';
import { buildStaleReport } from '../report/stale-json.js';
import { renderStaleText } from '../report/stale-text.js';
import { EXIT } from './exit-codes.js';
import type { CliIO } from './io.js';

export interface StaleCommandArgs {
  json: boolean;
  procRoot?: string | undefined;
  changeSet?: ChangeSet | undefined;
  /** --config PATH; without it the default file is read when it exists. */
  config?: string | undefined;
  /** plan: also decide the actions, with unit facts from the manager at this bus when it answers. */
  plan?: { bus?: string | undefined } | undefined;
}

/** The config, loaded only when there is one: zod costs status tens of milliseconds otherwise. */
async function configFor(path: string | undefined, needed: boolean): Promise<Config | undefined> {
  if (path === undefined && !needed && !existsSync(DEFAULT_CONFIG_PATH)) return undefined;
  const { loadConfig } = await import('../config/load-config.js');
  return loadConfig(path);
}

/** `restartd status` (no ChangeSet) and `restartd plan` (with one): detect, report, exit 0 or 1. */
export async function runStaleReport(args: StaleCommandArgs, io: CliIO): Promise<number> {
  const config = await configFor(args.config, args.plan !== undefined);
  const detection = await detectStale({
    changeSet: args.changeSet,
    ...(args.procRoot === undefined ? {} : { procRoot: args.procRoot }),
    ...(config?.scratchDirs === undefined ? {} : { scratchDirs: config.scratchDirs }),
  });
  const report = buildStaleReport({ ...detection, changeSet: args.changeSet });
  let planText = '';
  if (args.plan && config) {
    const { planWithOptionalManager } = await import('./plan-actions.js');
    const planned = await planWithOptionalManager(detection.stale, config, args.plan.bus);
    for (const warning of planned.warnings) io.err(`restartd: warning: ${warning}\n`);
    report.actions = planned.plan.actions;
    planText = planned.text;
  }
  io.out(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderStaleText(report) + planText);
  return report.stale.length > 0 ? EXIT.STALE : EXIT.OK;
}
