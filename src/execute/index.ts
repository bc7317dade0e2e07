export { executePlan, DEFAULT_EXECUTE_OPTIONS } from './execute-plan.js';
export { verifyOutcomes, type VerifyOptions } from './verify.js';
export type * from '../types/outcome.js';
export { planStale, type StalePlan } from './plan-stale.js';
