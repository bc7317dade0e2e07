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
}

/** `restartd status` (no ChangeSet) and `restartd plan` (with one): detect, report, exit 0 or 1. */
export async function runStaleReport(args: StaleCommandArgs, io: CliIO): Promise<number> {
  const detection = await detectStale({
    changeSet: args.changeSet,
    ...(args.procRoot === undefined ? {} : { procRoot: args.procRoot }),
  });
  const report = buildStaleReport({ ...detection, changeSet: args.changeSet });
  io.out(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderStaleText(report));
  return report.stale.length > 0 ? EXIT.STALE : EXIT.OK;
}
