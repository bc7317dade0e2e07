import { fileURLToPath } from 'node:url';

/** Where a paused run says so: `STATE/test-paused` holds the pause point and the pid. */
export const TEST_PAUSED_FILE = 'test-paused';

const PAUSE_MODULE = fileURLToPath(new URL('./pause-run.mjs', import.meta.url));

/**
 * The environment that makes a restartd process (and a detached hook child it starts) freeze at
 * `point` (see pause-run.mjs): the pause is loaded into the process, not built into restartd.
 */
export function pauseEnv(point: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, RESTARTD_TEST_PAUSE_AFTER: point, NODE_OPTIONS: `${env['NODE_OPTIONS'] ?? ''} --import=${PAUSE_MODULE}`.trim() };
}
