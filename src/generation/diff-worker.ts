import { parentPort, workerData } from 'node:worker_threads';
import { RestartdError } from '../errors.js';
import { PairedWalk } from './diff-dirs.js';
import type { DiffWorkerData, FromDiffWorker, ToDiffWorker } from './parallel-diff.js';

/** The second core's share of a paired directory walk (see parallel-diff.ts). */
const data = workerData as DiffWorkerData;
const port = parentPort;
const walk = new PairedWalk(data.old, data.new);
let walking = false;

const post = (message: FromDiffWorker): void => port?.postMessage(message);

async function walkGiven(): Promise<void> {
  walking = true;
  try {
    await walk.drain();
    post({ type: 'done', diff: walk.takeDiff() });
  } catch (error) {
    const code = error instanceof RestartdError ? error.code : 'BAD_GENERATION';
    post({ type: 'failed', code, message: error instanceof Error ? error.message : String(error) });
  } finally {
    walking = false;
  }
}

port?.on('message', (message: ToDiffWorker) => {
  if (message.type === 'share') {
    post({ type: 'shared', dirs: walk.shareHalf() });
    return;
  }
  for (const rel of message.dirs) walk.dirs.push(rel);
  if (!walking) void walkGiven();
});
post({ type: 'ready' });
