export { decide, type PolicyConfig } from './policy.js';
export { buildPlan, type PlanInput } from './build-plan.js';
export { unitFactsKey } from './unit-key.js';
export { unitJobOf, type JobManager, type UnitJob } from './unit-job.js';
export { PROTECTED_UNITS, findProtected, type ManagerScope, type ProtectedUnits } from './protected-units.js';
export { matchesGlob, globProblem } from '../config/glob.js';
export { summarizeEvidence } from './evidence.js';
export { PHASES, UNIT_ACTIONS } from '../types/plan.js';
export type * from '../types/plan.js';
