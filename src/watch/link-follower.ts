import { realpathSync } from 'node:fs';
import { EventEmitter } from 'eventemitter3';
import { watchEntry, type PathWatch } from './watcher.js';

/** What a LinkFollower tells, in the order things happen. */
export interface LinkFollowerEvents {
  /** Watching; `target` is where the link points now (undefined: missing or dangling). */
  ready: [target: string | undefined];
  /** A burst of changes settled on a new target: a run follows (after the one in flight, if any). */
  'switch:settled': [old: string, next: string];
  'run:done': [old: string, next: string, result: unknown];
  'run:error': [old: string, next: string, error: unknown];
  /** The burst settled with the link missing or dangling (its target dir gone): nothing runs. */
  'link:missing': [path: string];
  /** The first target after the link was missing at start: remembered, nothing to run against. */
  'link:found': [target: string];
  error: [error: unknown];
}

export interface LinkFollowerOptions {
  link: string;
  /** Quiet time after the last change before a switch counts as settled (default 500 ms). */
  debounceMs?: number;
  /** Carries one switch out (applyJournaled in `restartd watch`); runs never overlap. */
  run: (old: string, next: string) => Promise<unknown>;
}

function targetOf(link: string): string | undefined {
  try {
    return realpathSync(link);
  } catch {
    return undefined;
  }
}

/**
 * Follows a `current` or profile link: each burst of changes, once quiet for `debounceMs`, is one
 * switch from the previous target to the current one, carried out by `run`, one at a time. A
 * link replaced atomically, deleted and recreated, or pointing at a directory that vanished is
 * survived: nothing runs until it points at a directory again.
 */
export class LinkFollower extends EventEmitter<LinkFollowerEvents> {
  private watch: PathWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private previous: string | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: LinkFollowerOptions) {
    super();
  }

  async start(): Promise<void> {
    this.previous = targetOf(this.options.link);
    this.watch = await watchEntry(this.options.link, () => this.changed(), (error) => this.emit('error', error));
    this.emit('ready', this.previous);
  }

  /** Stops watching; waits for the run in flight. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.watch?.close();
    await this.chain;
  }

  /** Resolves when every settled switch so far has been run. */
  idle(): Promise<void> {
    return this.chain;
  }

  private changed(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.settle(), this.options.debounceMs ?? 500);
  }

  private settle(): void {
    this.timer = undefined;
    const target = targetOf(this.options.link);
    if (target === undefined) {
      this.emit('link:missing', this.options.link);
      return;
    }
    const old = this.previous;
    if (target === old) return;
    this.previous = target;
    if (old === undefined) {
      this.emit('link:found', target);
      return;
    }
    this.emit('switch:settled', old, target);
    this.chain = this.chain.then(async () => {
      try {
        this.emit('run:done', old, target, await this.options.run(old, target));
      } catch (error) {
        this.emit('run:error', old, target, error);
      }
    });
  }
}
