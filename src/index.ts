export { RestartdError, type RestartdErrorCode } from './errors.js';
export { createRestartd, Restartd, type PlanRequest, type RestartdEvents, type RestartdOptions } from './restartd.js';
export { detectStale, type Detection, type DetectOptions } from './detect.js';
export { diffGenerations, loadGeneration, ManifestSchema, manifestJsonSchema, type DiffOptions, type LoadOptions, type Manifest } from './generation/index.js';
export { scanProcesses, type ScanOptions } from './scan/scan-processes.js';
export { gatherDiskFacts } from './scan/disk-facts.js';
export { matchStale, type MatchOptions } from './match/match-stale.js';
export { ownerOf } from './owner/owner-of.js';
export { buildStaleReport, groupByOwner, type StaleReport } from './report/stale-json.js';
export { renderStaleText } from './report/stale-text.js';
export type * from './generation/types.js';
export type * from './scan/types.js';
export type * from './owner/types.js';
export type * from './match/types.js';
export { buildPlan, decide, renderPlanText, type PolicyConfig } from './plan/index.js';
export type * from './plan/types.js';
export { ConfigSchema, DEFAULT_CONFIG, DEFAULT_CONFIG_PATH, loadConfig, parseConfig, type Config } from './config/index.js';
export { applySwitch, executePlan, planStale, verifyOutcomes, type ApplySwitchOptions, type ApplySwitchResult, type StalePlan, type VerifyOptions } from './execute/index.js';
export type * from './execute/types.js';
export { connectSystemd, type ConnectOptions } from './systemd/adapter.js';
export type { Job, JobCompletion, JobResult, LiveUnitFacts, ManagerProcess, SystemdManager } from './systemd/types.js';
export { findStaleScripts } from './interp/find-stale-scripts.js';
export type { InterpLimits, InterpSummary } from './interp/types.js';
export { applyJournaled, applyUnderLock, DEFAULT_STATE_DIR, lastRuns, type JournalOptions, type JournaledApplyResult, type RunSummary, type RunUnitResult } from './journal/index.js';
export {
  AnswerSchema,
  createNotifier,
  findUpdateAware,
  listAllRegistrations,
  listRegistrations,
  readRegistrations,
  RegistrationSchema,
  registrationJsonSchema,
  SYSTEM_AWARE_DIR,
  userAwareDir,
  type Answer,
  type Notifier,
  type NotifierOptions,
  type Registration,
  type RegistrationInput,
  type RegistrationStatus,
  type UpdateMessage,
} from './aware/index.js';
export { decideReboot, describeRebootReason } from './status/reboot-tier.js';
export { readKernelFacts } from './status/kernel-facts.js';
export { defaultGenerationPaths, listGenerations } from './status/find-generations.js';
export { measureGenerations } from './status/measure-generations.js';
export { buildStatusReport, type StatusReport } from './report/status-json.js';
export { renderStatusText } from './report/status-text.js';
export { renderPrometheus } from './report/prometheus.js';
export type * from './status/types.js';
// fleet (issue 7): maintenance windows and the gate apply takes as `fleet` (openFleetGate loads etcd3 on demand).
export { describeWindow, nextWindowStart, windowContains } from './fleet/window.js';
export { FleetConfigSchema, MaintenanceWindowSchema, type FleetConfig, type MaintenanceWindow } from './config/fleet-schema.js';
export { openFleetGate, type FleetArgs } from './fleet/open-fleet.js';
export type { FleetGate, FleetHold, FleetHolder } from './execute/types.js';
