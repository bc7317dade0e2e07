export {
  AWARE_SIGNALS,
  AnswerSchema,
  MAX_ANSWER_BYTES,
  MAX_REGISTRATION_BYTES,
  RegistrationSchema,
  registrationJsonSchema,
  type Answer,
  type AnswerKind,
  type AwareSignal,
  type Registration,
  type RegistrationInput,
  type UpdateMessage,
} from '../types/registration-schema.js';
export { awareDirsFor, DEFAULT_AWARE_STATE_DIR, SYSTEM_AWARE_DIR, userAwareDir } from './aware-dirs.js';
export { readRegistrations, type RegistrationScan } from './read-registrations.js';
export { listAllRegistrations, listRegistrations, type ListOptions } from './list-registrations.js';
export { createNotifier, foldResults, type Notifier, type NotifierOptions } from './notifier.js';
export { tellProcess, type TellOptions } from './tell-process.js';
export { concerns, judgePeer, judgeSocket, judgeTarget, type PeerCred } from './trust.js';
export type * from '../types/aware.js';
export { findUpdateAware, type FindAwareOptions } from './find-update-aware.js';
