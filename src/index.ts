export { RestartdError, type RestartdErrorCode } from './errors.js';
export type * from './generation/types.js';
export type * from './scan/types.js';
export type * from './owner/types.js';
export type * from './match/types.js';
