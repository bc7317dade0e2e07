import * as z from 'zod';
import { UNIT_ACTIONS } from '../types/plan.js';

/**
 * The line protocol between restartd (root) and the child it runs as a user to reach that user's
 * systemd manager. One JSON object per line each way. What the child says is untrusted: the
 * user controls the process, so every line is size-bounded and parsed here before use.
 */

/** A longer line ends the child: no honest answer is this large. */
export const MAX_LINE_BYTES = 256 * 1024;

const JOB_RESULTS = ['done', 'canceled', 'timeout', 'failed', 'dependency', 'skipped', 'invalid', 'assert', 'unsupported', 'collected', 'once'] as const;
const JOB_METHODS = ['RestartUnit', 'ReloadUnit', 'StopUnit', 'StartUnit'] as const;
const UNIT_NAME = z.string().min(1).max(256);
const PATH = z.string().max(4096);

/** What the child is started with (its one argument). */
export const ChildArgsSchema = z.object({
  uid: z.number().int().min(1),
  gid: z.number().int().min(0),
  name: z.string().min(1).max(256),
  callTimeoutMs: z.number().int().positive(),
});
export type ChildArgs = z.infer<typeof ChildArgsSchema>;

export const JobSchema = z.object({
  path: z.string().min(1).max(512),
  unit: UNIT_NAME,
  method: z.enum(JOB_METHODS),
  queuedAt: z.number(),
  repliedAt: z.number(),
});

export const JobCompletionSchema = z.object({
  job: JobSchema,
  result: z.enum(JOB_RESULTS),
  durationMs: z.number().nonnegative(),
  signalBeforeReply: z.boolean(),
});

export const LiveUnitFactsSchema = z.object({
  name: UNIT_NAME,
  loadState: z.string().max(64),
  activeState: z.string().max(64),
  mainPid: z.number().int().nonnegative(),
  fragmentPath: PATH.optional(),
  dropInPaths: z.array(PATH).max(256).optional(),
  refuseManualStop: z.boolean().optional(),
  refuseManualStart: z.boolean().optional(),
  canStart: z.boolean().optional(),
  canStop: z.boolean().optional(),
  canReload: z.boolean().optional(),
  partOf: z.array(UNIT_NAME).max(256).optional(),
  bindsTo: z.array(UNIT_NAME).max(256).optional(),
  consistsOf: z.array(UNIT_NAME).max(256).optional(),
  boundBy: z.array(UNIT_NAME).max(256).optional(),
  pullsIn: z.array(UNIT_NAME).max(4096).optional(),
  triggeredBy: z.array(UNIT_NAME).max(256).optional(),
  xRestartIfChanged: z.boolean().optional(),
  xReloadIfChanged: z.boolean().optional(),
  xStopIfChanged: z.boolean().optional(),
  xOnlyManualStart: z.boolean().optional(),
  xNotSocketActivated: z.boolean().optional(),
  xRestartdAction: z.enum(UNIT_ACTIONS).optional(),
  unitFileChanged: z.boolean().optional(),
  controlGroup: PATH.optional(),
  fileWarnings: z.array(z.string().max(1024)).max(64).optional(),
});

export const UnitStateSchema = z.object({
  activeState: z.string().max(64),
  subState: z.string().max(64),
  type: z.string().max(64),
  result: z.string().max(64),
  execMainCode: z.number().int(),
  execMainStatus: z.number().int(),
  nRestarts: z.number().int().nonnegative(),
  invocationId: z.string().max(64),
  mainPid: z.number().int().nonnegative(),
  execMainStartUs: z.number().nonnegative(),
  stateChangeUs: z.number().nonnegative(),
  jobPath: z.string().max(256).optional(),
});

/** A desktop notification the child sends on its user's session bus (org.freedesktop.Notifications.Notify). */
const DesktopNotificationSchema = z.object({
  appName: z.string().max(64),
  summary: z.string().max(1024),
  body: z.string().max(8192),
  timeoutMs: z.number().int().positive().max(120_000),
});

/** Requests root sends; `id` pairs each with its answer. */
export type ChildRequest =
  | { id: number; op: 'unitFacts' | 'unitState' | 'resetFailed' | 'restart' | 'reload' | 'stop' | 'start'; unit: string }
  | { id: number; op: 'waitForJob'; job: z.infer<typeof JobSchema>; timeoutMs: number }
  | { id: number; op: 'daemonReload' }
  | { id: number; op: 'reexecute'; timeoutMs: number }
  | ({ id: number; op: 'notify' } & z.infer<typeof DesktopNotificationSchema>);

export const ChildRequestSchema = z.discriminatedUnion('op', [
  z.object({ id: z.number().int(), op: z.enum(['unitFacts', 'unitState', 'resetFailed', 'restart', 'reload', 'stop', 'start']), unit: UNIT_NAME }),
  z.object({ id: z.number().int(), op: z.literal('waitForJob'), job: JobSchema, timeoutMs: z.number().int().positive() }),
  z.object({ id: z.number().int(), op: z.literal('daemonReload') }),
  z.object({ id: z.number().int(), op: z.literal('reexecute'), timeoutMs: z.number().int().positive() }),
  DesktopNotificationSchema.extend({ id: z.number().int(), op: z.literal('notify') }),
]);

/** The child's first line: connected to its user's manager (as that user), or why not. */
export const HelloSchema = z.discriminatedUnion('ready', [
  z.object({ ready: z.literal(true), uid: z.number().int(), gid: z.number().int(), groups: z.array(z.number().int()).max(65536) }),
  z.object({ ready: z.literal(false), absent: z.boolean(), message: z.string().max(2048) }),
]);
export type Hello = z.infer<typeof HelloSchema>;

const ERROR_CODES = ['BUS', 'SYSTEMD', 'JOB_TIMEOUT'] as const;

export const AnswerSchema = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), value: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), code: z.enum(ERROR_CODES), message: z.string().max(4096) }),
]);
export type Answer = z.infer<typeof AnswerSchema>;

/** How each request's value is parsed. */
export const VALUE_SCHEMAS = {
  unitFacts: LiveUnitFactsSchema,
  unitState: UnitStateSchema,
  resetFailed: z.null(),
  restart: JobSchema,
  reload: JobSchema,
  stop: JobSchema,
  start: JobSchema,
  waitForJob: JobCompletionSchema,
  daemonReload: z.null(),
  reexecute: z.null(),
  // The notification server's id for it (uint32).
  notify: z.number().int().nonnegative().max(0xffff_ffff),
} as const satisfies Record<ChildRequest['op'], z.ZodType>;
