// Compiles bench/floor.c (the raw /proc floor) into the bench's temp dir.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { run } from './exec.mjs';

const SOURCE = fileURLToPath(new URL('../floor.c', import.meta.url));

/** Returns the path of the compiled floor binary, or null (with a warning) when gcc is missing or fails. */
export async function buildFloor(tmpDir, log) {
  const bin = join(tmpDir, 'floor');
  try {
    await run('gcc', ['-O2', '-Wall', '-o', bin, SOURCE]);
    return bin;
  } catch (error) {
    log(`warning: cannot compile bench/floor.c, the floor column stays empty: ${error.message}`);
    return null;
  }
}
