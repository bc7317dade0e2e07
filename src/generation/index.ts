export { diffGenerations, type DiffOptions } from './diff-generations.js';
export { detectSource, loadGeneration, type DetectedSource, type LoadOptions } from './load-generation.js';
export { DEFAULT_STORE_DIR } from './load-nix.js';
export { ManifestFileSchema, ManifestSchema, manifestJsonSchema, type Manifest, type ManifestFile } from './manifest-schema.js';
export { compareFiles, UNKNOWN_SIZE, type FileVerdict } from '../diff/compare-files.js';
export { completeChangeSet, draftChangeSet, type DraftChangeSet, type FilePair, type HashOf } from '../diff/draft-changeset.js';
export { pairStorePaths } from '../diff/store-pairing.js';
export { parseStoreName, type StoreName } from '../diff/store-names.js';
export type * from '../types/generation.js';
