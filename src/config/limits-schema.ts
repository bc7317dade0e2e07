import * as z from 'zod';

/** Bounds on what restartd reads and waits for; each defaults to a value safe on a shared host. */
export const LimitsSchema = z
  .strictObject({
    compareMaxBytes: z
      .int()
      .min(0)
      .max(2 ** 40)
      .optional()
      .describe('A replaced or deleted file larger than this is not compared byte for byte with the one now at its path: it is judged by identity (dev, inode) alone, and the report says so (identityOnly). Default 67108864 (64 MiB).'),
    heldFilesPerProcess: z
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('Held files (the executable, mappings, file descriptors) examined per process; the rest are counted (scanned.heldFilesNotExamined) and not judged, so one process holding 100,000 fds cannot cost the whole scan its time. Default 20000.'),
    manifestMaxBytes: z
      .int()
      .min(1)
      .max(2 ** 32)
      .optional()
      .describe('A manifest generation larger than this is refused before a byte of it is read. Default 67108864 (64 MiB).'),
    manifestMaxEntries: z
      .int()
      .min(1)
      .max(10_000_000)
      .optional()
      .describe('A manifest generation with more entries than this is refused before one is validated. Default 200000.'),
    ackTimeoutMaxMs: z
      .int()
      .min(1)
      .max(600_000)
      .optional()
      .describe("The longest an update-aware app's ackTimeoutMs may keep a run (and its lock) waiting for an answer; a registration asking for more gets this. Default 30000."),
  })
  .meta({ title: 'restartd limits' });

export type Limits = z.infer<typeof LimitsSchema>;
