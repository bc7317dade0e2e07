export { decide, type PolicyConfig } from './policy.js';
export { buildPlan, unitFactsKey, type PlanInput } from './build-plan.js';
export { renderPlanText, type PlanTextOptions } from './plan-text.js';
export { unitJobOf, type JobManager, type UnitJob } from './unit-job.js';
export { PROTECTED_UNITS, findProtected, type ManagerScope, type ProtectedUnits } from './protected-units.js';
export { matchesGlob, globProblem } from './glob.js';
export { summarizeEvidence } from './evidence.js';
export { PHASES, UNIT_ACTIONS } from './types.js';
export type * from './types.js';
