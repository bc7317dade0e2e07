import { realpath } from 'node:fs/promises';
import { RestartdError, errnoCode } from '../errors.js';

/** A BAD_GENERATION error naming the generation path. */
export function generationError(path: string, detail: string, cause?: unknown): RestartdError {
  return new RestartdError('BAD_GENERATION', `generation ${path}: ${detail}`, { subject: path, cause });
}

/** realpath, with errors that name the generation. */
export async function resolveGenerationPath(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    const code = errnoCode(error);
    const detail = code === 'ENOENT' ? 'does not exist (or is a dangling link)' : `cannot resolve (${code ?? String(error)})`;
    throw generationError(path, detail, error);
  }
}
