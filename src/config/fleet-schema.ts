import * as z from 'zod';
import { globProblem } from './glob.js';

/** Days as kured names them: the window opens on these days (a window crossing midnight ends the next day). */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const clockTime = z
  .string()
  .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day HH:MM (00:00 to 23:59)')
  .describe('A time of day, HH:MM (24 h), in the window\'s time zone.');

const timeZone = z
  .string()
  .superRefine((zone, ctx) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected an IANA time zone ("UTC", "Europe/Berlin"), got ${JSON.stringify(zone)}`, input: zone });
    }
  })
  .describe('An IANA time zone: "UTC", "Europe/Berlin", "America/New_York".');

/**
 * When restarts may happen. `start` to `end` on each of `days`; when `end` is not after `start`
 * the window crosses midnight and ends on the next day ("fri" 22:00-02:00 includes Saturday 01:30).
 */
export const MaintenanceWindowSchema = z
  .strictObject({
    days: z.array(z.enum(WEEKDAYS)).min(1).default([...WEEKDAYS]).describe('Days the window opens on (default: every day).'),
    start: clockTime.default('00:00'),
    end: clockTime.default('00:00').describe('When the window closes; "00:00" with start "00:00" means the whole day.'),
    timeZone: timeZone.default('UTC'),
  })
  .meta({ title: 'restartd maintenance window' });
export type MaintenanceWindow = z.infer<typeof MaintenanceWindowSchema>;

const groupName = z
  .string()
  .regex(/^[A-Za-z0-9@._:-]{1,128}$/, 'expected a group name of letters, digits and @._:- (at most 128)');

/** A unit glob and the group whose slots its restarts share. */
export const FleetGroupSchema = z.strictObject({
  match: z.string().superRefine((pattern, ctx) => {
    const problem = globProblem(pattern);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: pattern });
  }).describe('A unit name or glob, as in units[].match.'),
  group: groupName.describe('Units matching share this group\'s slots across the fleet.'),
});

/** The `fleet` section of the config. */
export const FleetConfigSchema = z
  .strictObject({
    slots: z.number().int().min(1).max(1000).default(1).describe('At most this many hosts restart the same group at once (K).'),
    groups: z
      .array(FleetGroupSchema)
      .default([])
      .describe('Unit globs to group names, first match wins; a unit matching none is its own group.'),
    leaseTtlSeconds: z.number().int().min(2).max(3600).default(10).describe('A host that dies holding a slot frees it after this long.'),
    waitTimeoutSeconds: z.number().positive().max(7 * 86_400).default(3600).describe('How long an action waits for a slot before it counts as failed (FLEET_UNAVAILABLE).'),
    window: MaintenanceWindowSchema.optional().describe('Restarts only happen inside this window; outside it, apply defers (exit 7).'),
    delaySeconds: z.number().min(0).max(86_400).default(0).describe('Wait this long before the first restart of a run.'),
    jitterSeconds: z.number().min(0).max(86_400).default(0).describe('Plus a random part of up to this long, so hosts do not start together.'),
  })
  .meta({ title: 'restartd fleet rollouts' });
export type FleetConfig = z.infer<typeof FleetConfigSchema>;
