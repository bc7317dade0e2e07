import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RestartdError, type RestartdErrorCode } from '../errors.js';
import { mergeDiff, PairedWalk, type DirSide, type DirTreeDiff } from './diff-dirs.js';

/**
 * Entries this thread walks before it starts a second one (~40 ms of CPU to start, about what 15k
 * entries cost to walk): small trees never pay for it. The worker gets directories only once it
 * is up, so a slow start never holds this thread back.
 */
const PARALLEL_MIN_ENTRIES = 4096;

const WORKER = new URL('./diff-worker.js', import.meta.url);

export interface DiffWorkerData {
  old: DirSide;
  new: DirSide;
}

/** To the worker: directories to walk, or a request for half of the ones it has not walked yet. */
export type ToDiffWorker = { type: 'dirs'; dirs: string[] } | { type: 'share' };

/** From the worker: its diff once it ran out of directories, the directories it gave back, or its failure. */
export type FromDiffWorker =
  | { type: 'ready' }
  | { type: 'done'; diff: DirTreeDiff }
  | { type: 'shared'; dirs: string[] }
  | { type: 'failed'; code: RestartdErrorCode; message: string };

/** The second thread of a walk, as this thread sees it. */
class Helper {
  ready = false;
  busy = false;
  /** Whether it was ever given directories (its failure then loses part of the diff). */
  held = false;
  askedToShare = false;
  failure: RestartdError | undefined;
  private readonly worker: Worker;
  private wake: () => void = () => undefined;

  constructor(data: DiffWorkerData, private readonly walk: PairedWalk) {
    this.worker = new Worker(WORKER, { workerData: data });
    this.worker.on('message', (message: FromDiffWorker) => this.receive(message));
    this.worker.once('error', (error) => this.fail(new RestartdError('BAD_GENERATION', `diff worker failed: ${error.message}`, { cause: error })));
    this.worker.once('exit', (code) => this.fail(new RestartdError('BAD_GENERATION', `diff worker exited with code ${code}`)));
  }

  give(dirs: string[]): void {
    if (dirs.length === 0) return;
    this.busy = true;
    this.held = true;
    this.worker.postMessage({ type: 'dirs', dirs } satisfies ToDiffWorker);
  }

  askToShare(): void {
    if (this.askedToShare) return;
    this.askedToShare = true;
    this.worker.postMessage({ type: 'share' } satisfies ToDiffWorker);
  }

  /** Resolves at the worker's next message (or failure). */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  async stop(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private receive(message: FromDiffWorker): void {
    if (message.type === 'ready') {
      this.ready = true;
    } else if (message.type === 'done') {
      mergeDiff(this.walk.diff, message.diff);
      this.busy = false;
    } else if (message.type === 'shared') {
      for (const rel of message.dirs) this.walk.dirs.push(rel);
      this.askedToShare = false;
    } else {
      this.fail(new RestartdError(message.code, message.message));
    }
    this.wake();
  }

  private fail(error: RestartdError): void {
    this.failure ??= error;
    this.busy = false;
    this.wake();
  }
}

// A worker that cannot start (threads refused, resources short) leaves the walk to this thread.
function startHelper(data: DiffWorkerData, walk: PairedWalk): Helper | undefined {
  try {
    return new Helper(data, walk);
  } catch {
    return undefined;
  }
}

/**
 * Diffs two directory trees with the paired walk, on two threads once the tree proves big enough:
 * the directories not walked yet are shared, half at a time, whenever one thread runs out, so the
 * split balances itself. Same result as one thread (`parallel: false`).
 */
export async function diffDirTrees(oldSide: DirSide, newSide: DirSide, parallel: boolean | 'auto' = 'auto'): Promise<DirTreeDiff> {
  const workerBuilt = parallel !== false && WORKER.protocol === 'file:' && existsSync(fileURLToPath(WORKER));
  const minEntries = parallel === true ? 0 : PARALLEL_MIN_ENTRIES;
  let helper: Helper | undefined;
  let canStart = workerBuilt;
  const walk: PairedWalk = new PairedWalk(oldSide, newSide, () => {
    if (walk.dirs.length < 2 || walk.entries < minEntries) return;
    if (!helper && canStart) helper = startHelper({ old: oldSide, new: newSide }, walk);
    canStart = false;
    if (!helper) return;
    // Forced (`parallel: true`), the worker gets its share at once, so even a small tree is split.
    if ((helper.ready || parallel === true) && !helper.busy && !helper.failure) helper.give(walk.shareHalf());
  });
  walk.dirs.push('');
  try {
    for (;;) {
      await walk.drain();
      // A worker that failed before it was given anything cost nothing: this thread walked it all.
      if (helper?.failure && helper.held) throw helper.failure;
      if (!helper?.busy) return walk.diff;
      // Out of work while the worker still has some: ask for half of it, or wait for its result.
      helper.askToShare();
      await helper.next();
    }
  } finally {
    await helper?.stop();
  }
}
