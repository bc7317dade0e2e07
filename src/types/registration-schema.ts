import * as z from 'zod';

/** Signals a registration may ask for: ones an app can catch. Never SIGKILL, SIGTERM or SIGSTOP. */
export const AWARE_SIGNALS = ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;
export type AwareSignal = (typeof AWARE_SIGNALS)[number];

/** Largest registration file restartd reads, in bytes. */
export const MAX_REGISTRATION_BYTES = 16 * 1024;
/** Largest answer line restartd reads from an app's socket, in bytes (newline included). */
export const MAX_ANSWER_BYTES = 4096;

const absolutePath = z.string().regex(/^\//, 'expected an absolute path').max(4096);

const SignalNotifySchema = z.strictObject({
  kind: z.literal('signal'),
  signal: z.enum(AWARE_SIGNALS).describe('The signal restartd sends when the process holds old files.'),
});

const SocketNotifySchema = z.strictObject({
  kind: z.literal('socket'),
  // sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
  path: absolutePath.max(107).describe('A Unix stream socket speaking newline-delimited JSON, owned by the process\'s user.'),
});

/**
 * One update-aware process, as written to restartd's runtime dir (`/run/restartd/aware.d/NAME.json`,
 * per user `$XDG_RUNTIME_DIR/restartd/aware.d`). Unknown keys are errors.
 */
export const RegistrationSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'expected 1-64 of A-Z a-z 0-9 . _ @ -')
      .describe('What the app calls itself, for reports.'),
    pid: z.int().min(1).max(2 ** 22).describe('The process that handles updates itself.'),
    startTime: z.int().min(0).describe('Field 22 of /proc/PID/stat: with pid, the identity that survives PID reuse.'),
    notify: z.discriminatedUnion('kind', [SignalNotifySchema, SocketNotifySchema]).describe('How restartd tells the process.'),
    ackTimeoutMs: z.int().min(1).max(600_000).default(5000).describe('How long to wait for the answer on the socket.'),
    fallback: z
      .enum(['restart', 'none'])
      .default('restart')
      .describe('When no answer comes, or the answer is restart-me: report that the owner must be restarted, or leave it.'),
    paths: z
      .array(absolutePath)
      .max(256)
      .optional()
      .describe('Notify only when a stale file is at or under one of these paths.'),
  })
  .meta({
    $id: 'https://restartd.dev/schemas/registration.schema.json',
    title: 'restartd update-aware registration',
    description: 'A process that picks up new files itself: restartd notifies it instead of restarting its owner.',
  });

/** A validated registration, defaults filled in. */
export type Registration = z.infer<typeof RegistrationSchema>;
/** A registration as written (defaults not yet applied). */
export type RegistrationInput = z.input<typeof RegistrationSchema>;

/** What an app answers on its socket, one JSON line. */
export const AnswerSchema = z.strictObject({
  type: z.literal('ack'),
  answer: z.enum(['handled', 'restart-me', 'ignored']),
  message: z.string().max(512).optional(),
});
export type Answer = z.infer<typeof AnswerSchema>;
export type AnswerKind = Answer['answer'];

/** What restartd sends on an app's socket, one JSON line (the client parses it with this). */
export const UpdateMessageSchema = z.object({
  type: z.literal('update'),
  /** The generations of the switch (paths), or null when there are none (a dpkg upgrade). */
  oldGeneration: z.string().nullable(),
  newGeneration: z.string().nullable(),
  /** The stale files the process holds (paths as it sees them). */
  files: z.array(z.string()),
});
export type UpdateMessage = z.infer<typeof UpdateMessageSchema>;
/** Largest update message the client reads, in bytes. */
export const MAX_UPDATE_BYTES = 1024 * 1024;

/** The JSON Schema published as schemas/registration.schema.json. */
export function registrationJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(RegistrationSchema, { io: 'input' }) as Record<string, unknown>;
}
