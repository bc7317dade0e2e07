import { describe, expect, it } from 'vitest';
import { RestartdError } from '../src/errors.js';
import { JobTracker } from '../src/systemd/job-tracker.js';
import type { Job } from '../src/types/systemd.js';

function job(n: number, repliedAt = 10): Job {
  return { path: `/org/freedesktop/systemd1/job/${n}`, unit: `u${n}.service`, method: 'RestartUnit', queuedAt: 0, repliedAt };
}

describe('JobTracker (matching JobRemoved to jobs by path)', () => {
  it('resolves a wait registered before the signal', async () => {
    const tracker = new JobTracker();
    const waiting = tracker.wait(job(1), 1000);
    tracker.removed(job(1).path, 'done', 25);
    expect(await waiting).toMatchObject({ result: 'done', durationMs: 25, signalBeforeReply: false });
  });

  it('finds a signal that came before the method reply (buffered)', async () => {
    const tracker = new JobTracker();
    tracker.removed(job(2).path, 'failed', 5);
    expect(await tracker.wait(job(2, 10), 1000)).toMatchObject({ result: 'failed', signalBeforeReply: true });
  });

  it('resolves every wait for one path (systemd merges jobs) and keeps the result for late waits', async () => {
    const tracker = new JobTracker();
    const both = Promise.all([tracker.wait(job(3), 1000), tracker.wait(job(3), 1000)]);
    tracker.removed(job(3).path, 'done', 12);
    expect((await both).map((c) => c.result)).toEqual(['done', 'done']);
    expect((await tracker.wait(job(3), 1000)).result).toBe('done');
  });

  it('ignores other jobs and times out with JOB_TIMEOUT naming the unit', async () => {
    const tracker = new JobTracker();
    tracker.removed(job(5).path, 'done');
    const error = await tracker.wait(job(4), 20).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestartdError);
    expect(error).toMatchObject({ code: 'JOB_TIMEOUT', subject: 'u4.service' });
  });

  it('fails every wait in progress when the bus goes away', async () => {
    const tracker = new JobTracker();
    const waiting = tracker.wait(job(6), 1000);
    tracker.failAll(new Error('bus gone'));
    await expect(waiting).rejects.toThrow('bus gone');
  });
});
