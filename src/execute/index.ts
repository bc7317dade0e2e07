export { applySwitch, type ApplySwitchOptions, type ApplySwitchResult } from './apply-switch.js';
export { executePlan, DEFAULT_EXECUTE_OPTIONS } from './execute-plan.js';
export { verifyOutcomes, type VerifyOptions } from './verify.js';
export { actionStartLine, managerStepLine, outcomeLine, summaryLine, verifyLine } from './outcome-text.js';
export type * from './types.js';
export { planStale, type StalePlan } from './plan-stale.js';
