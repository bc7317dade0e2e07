import * as z from 'zod';
import { globProblem } from './glob.js';
import { UNIT_ACTIONS } from '../types/plan.js';
import { FleetConfigSchema } from './fleet-schema.js';
import { LimitsSchema } from './limits-schema.js';

const unitGlob = z
  .string()
  .superRefine((pattern, ctx) => {
    const problem = globProblem(pattern);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: pattern });
  })
  .describe('A unit name or glob (*, ?, [...]). Unless it ends in a unit type (".socket") or "*", ".service" is implied: "nginx", "php*-fpm", "getty@*".');

/** One per-unit override: the first entry whose `match` fits the unit decides. */
export const UnitOverrideSchema = z
  .strictObject({
    match: unitGlob,
    action: z.enum(UNIT_ACTIONS).describe('What to do with a stale unit that matches.'),
    reason: z.string().min(1).optional().describe('Shown in plans and reports next to the action.'),
  })
  .meta({ title: 'restartd unit override' });

const absoluteDir = z.string().regex(/^\//, 'expected an absolute path');

/** restartd's config file (default /etc/restartd/config.json). Unknown keys are errors. */
export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1),
    units: z
      .array(UnitOverrideSchema)
      .default([])
      .describe('Per-unit overrides, tried in order; they win over unit keys and the protected list.'),
    protect: z
      .array(unitGlob)
      .default([])
      .describe('Units never restarted (skipped as protected-unit), on top of the built-in list.'),
    unprotect: z
      .array(unitGlob)
      .default([])
      .describe('Units taken off the built-in protected list (e.g. "docker" on a host whose containers may restart).'),
    jobTimeoutSeconds: z
      .number()
      .positive()
      .max(86_400)
      .default(300)
      .describe('How long one systemd job (restart, reload, stop, start) may take before it counts as failed.'),
    settleSeconds: z
      .number()
      .min(0)
      .max(600)
      .default(2)
      .describe('How long a restarted (or started, reloaded) unit must stay active after its job to count as done; a Type=notify unit that is ready is done at once.'),
    concurrency: z.number().int().min(1).max(256).default(4).describe('How many units restart at the same time.'),
    scratchDirs: z
      .array(absoluteDir)
      .optional()
      .describe('Deleted files under these dirs are scratch, not installed software (default /tmp, /var, /run, /dev/shm).'),
    generations: z
      .array(absoluteDir)
      .max(64)
      .optional()
      .describe('Where `restartd status` looks for installed generations: Nix profiles, OSTree deployments dirs, release dirs or their `current` links (default: /nix/var/nix/profiles/system and /ostree/deploy/*/deploy, when present; --generations wins).'),
    limits: LimitsSchema.optional().describe('Bounds on what one run reads and waits for (a hostile local user can make files huge, many or slow).'),
    rollback: z
      .strictObject({
        on: z.enum(['failure', 'never']).describe('"failure": when a restart, reload or start of a switch fails, flip its link back to the old generation and restart onto it what the run restarted (exit 8); "never": do not (the default).'),
        command: z
          .array(z.string().min(1))
          .min(1)
          .refine((argv) => argv[0]?.startsWith('/') === true, 'the program must be an absolute path')
          .optional()
          .describe('For generations only the system\'s own tool can switch back (a NixOS system profile, OSTree): an argv run without a shell instead of flipping a link, with RESTARTD_OLD and RESTARTD_NEW in its environment, e.g. ["/nix/var/nix/profiles/system-41-link/bin/switch-to-configuration", "switch"].'),
        commandTimeoutSeconds: z.number().positive().max(86_400).default(600).describe('How long rollback.command may take before the rollback counts as failed.'),
      })
      .optional()
      .describe('Rolling back a broken release (apply with --link, hook with RESTARTD_LINK, watch); --rollback turns it on for one run.'),
    notify: z
      .strictObject({
        desktop: z.boolean().default(true).describe("A desktop notification on the user's session bus (org.freedesktop.Notifications), sent by a child acting as the user."),
        terminal: z.boolean().default(true).describe("A line on each of the user's terminals open to messages (`mesg y`): their programs' controlling ttys, their logind sessions' and utmp logins' ttys."),
      })
      .optional()
      .describe('How users are told about their programs restartd leaves running (session apps, bare processes, skipped units), once per switch; the user:notified event is emitted either way. Default: both on.'),
    fleet: FleetConfigSchema.optional().describe('Fleet rollouts: slots per group across hosts (with --fleet), maintenance window, delay with jitter.'),
  })
  .meta({
    $id: 'https://restartd.dev/schemas/config.schema.json',
    title: 'restartd config',
    description: 'How restartd decides what to do with stale units (/etc/restartd/config.json).',
  });

/** A validated config, defaults filled in. */
export type Config = z.infer<typeof ConfigSchema>;
/** A config file as written (defaults not yet applied). */
export type ConfigInput = z.input<typeof ConfigSchema>;
export type UnitOverride = z.infer<typeof UnitOverrideSchema>;

export { DEFAULT_CONFIG } from './paths.js';

/** The JSON Schema published as schemas/config.schema.json. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ConfigSchema, { io: 'input' }) as Record<string, unknown>;
}
