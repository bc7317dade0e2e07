// restartd's public surface: the runs, the pipeline's steps, the schemas of what crosses a trust
// boundary, and the vocabulary's types. Everything else is internal.

// The runs (what the CLI's commands are) and their results.
export { createRestartd, Restartd, type ApplyRequest, type PlanRequest, type RestartdEvents, type RestartdOptions } from './restartd.js';
export type { RunRequest } from './run/request.js';
export type { ApplyResult } from './run/switch-run.js';
export type { HookRequest, HookResult } from './run/hook-run.js';
export type { WatchEvents, WatchRequest } from './run/watch-run.js';
export type { StatusRequest } from './run/status-run.js';
export type { RunEvents } from './run/events.js';
export { RestartdError, type RestartdErrorCode } from './errors.js';
export { EXIT, type ExitCode } from './types/exit-codes.js';

// The pipeline's steps, for a caller that composes its own run.
export { diffGenerations, loadGeneration, type DiffOptions, type LoadOptions } from './generation/index.js';
export { detectStale, type Detection, type DetectOptions } from './detect.js';
export { scanProcesses, type ScanOptions } from './scan/scan-processes.js';
export { matchStale, type MatchOptions } from './match/match-stale.js';
export { buildPlan, decide, type PolicyConfig } from './plan/index.js';
export { planStale, type StalePlan } from './execute/plan-stale.js';
export { applySwitch, type ApplySwitchOptions, type ApplySwitchResult } from './run/apply-switch.js';
export { applyJournaled, type JournalOptions, type JournaledApplyResult } from './run/journaled-switch.js';
export { lastRuns, type RunSummary, type RunUnitResult } from './journal/last-runs.js';
export { decideReboot } from './status/reboot-tier.js';
export { measureGenerations } from './status/measure-generations.js';
export { renderPrometheus } from './report/prometheus.js';

// Schemas of every input that crosses a trust boundary.
export { ConfigSchema, DEFAULT_CONFIG, DEFAULT_CONFIG_PATH, loadConfig, parseConfig, type Config } from './config/index.js';
export { ManifestSchema, manifestJsonSchema, type Manifest } from './generation/index.js';
export { RegistrationSchema, registrationJsonSchema, AnswerSchema, type Answer, type Registration, type RegistrationInput, type RegistrationStatus, type UpdateMessage, type UserNotice, type UserNotified, type NotifyChannel } from './aware/index.js';

// The vocabulary.
export type * from './types/generation.js';
export type * from './types/process.js';
export type * from './types/owner.js';
export type * from './types/stale.js';
export type * from './types/plan.js';
export type * from './types/outcome.js';
export type * from './types/status.js';
export type { StaleReport } from './report/stale-json.js';
export type { StatusReport } from './report/status-json.js';
export type { FleetArgs } from './fleet/open-fleet.js';
