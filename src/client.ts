export {
  defaultClientDir,
  registerSignal,
  registerUpdateAware,
  type UpdateAwareHandle,
  type UpdateAwareOptions,
  type UpdateInfo,
} from './aware/register-update-aware.js';
export { AnswerSchema, RegistrationSchema, type AnswerKind, type Registration } from './types/registration-schema.js';
