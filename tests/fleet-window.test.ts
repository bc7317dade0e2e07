import { describe, expect, it } from 'vitest';
import { MaintenanceWindowSchema, type MaintenanceWindow } from '../src/config/fleet-schema.js';
import { parseConfig } from '../src/config/load-config.js';
import { createFleetGate, delayMsOf, groupOfUnit } from '../src/fleet/fleet-gate.js';
import { parseEndpoints } from '../src/fleet/open-fleet.js';
import { describeWindow, nextWindowStart, windowContains } from '../src/fleet/window.js';
import { FleetConfigSchema } from '../src/config/fleet-schema.js';
import type { PlannedAction } from '../src/types/plan.js';
import { fleetSection } from '../src/report/status-sections.js';

// 2026-11-28 is a Saturday, 2026-11-30 a Monday.
const win = (w: Partial<MaintenanceWindow>): MaintenanceWindow => MaintenanceWindowSchema.parse(w);
const at = (iso: string): Date => new Date(iso);

describe('maintenance windows (pure, fixed dates)', () => {
  const weekend = win({ days: ['sat', 'sun'], start: '02:00', end: '05:00', timeZone: 'UTC' });
  const fridayNight = win({ days: ['fri'], start: '22:00', end: '02:00', timeZone: 'UTC' });
  const kolkata = win({ days: ['mon'], start: '09:00', end: '17:00', timeZone: 'Asia/Kolkata' });
  const tokyoMidnight = win({ days: ['sun'], start: '23:00', end: '01:00', timeZone: 'Asia/Tokyo' });

  it.each([
    ['weekend, Saturday 03:00', weekend, '2026-11-28T03:00:00Z', true],
    ['weekend, opens at 02:00 sharp', weekend, '2026-11-28T02:00:00Z', true],
    ['weekend, closed at 05:00 sharp', weekend, '2026-11-28T05:00:00Z', false],
    ['weekend, Saturday 01:59', weekend, '2026-11-28T01:59:00Z', false],
    ['weekend, Monday 03:00', weekend, '2026-11-30T03:00:00Z', false],
    ['across midnight, Friday 23:00', fridayNight, '2026-11-27T23:00:00Z', true],
    ['across midnight, Saturday 01:30 (Friday\'s window)', fridayNight, '2026-11-28T01:30:00Z', true],
    ['across midnight, Saturday 02:00', fridayNight, '2026-11-28T02:00:00Z', false],
    ['across midnight, Friday 21:59', fridayNight, '2026-11-27T21:59:00Z', false],
    ['across midnight, Friday 01:00 (Thursday\'s, not open)', fridayNight, '2026-11-27T01:00:00Z', false],
    ['Kolkata (+05:30), Monday 09:00 local', kolkata, '2026-11-30T03:30:00Z', true],
    ['Kolkata, Monday 08:59 local', kolkata, '2026-11-30T03:29:00Z', false],
    ['Kolkata, Monday 16:59 local', kolkata, '2026-11-30T11:29:00Z', true],
    ['Tokyo (+09), Sunday 23:30 local', tokyoMidnight, '2026-11-29T14:30:00Z', true],
    ['Tokyo, Monday 00:30 local (Sunday\'s window)', tokyoMidnight, '2026-11-29T15:30:00Z', true],
    ['Tokyo, Monday 01:00 local', tokyoMidnight, '2026-11-29T16:00:00Z', false],
    ['Tokyo, Sunday 00:30 local (Saturday\'s, not open)', tokyoMidnight, '2026-11-28T15:30:00Z', false],
    ['whole day (00:00-00:00), Monday', win({ days: ['mon'] }), '2026-11-30T23:59:00Z', true],
    ['whole day (00:00-00:00), Tuesday', win({ days: ['mon'] }), '2026-12-01T00:00:00Z', false],
  ])('%s -> %s', (_name, window, iso, inside) => {
    expect(windowContains(window, at(iso))).toBe(inside);
  });

  it.each([
    ['weekend, from Monday', weekend, '2026-11-30T10:00:00Z', '2026-12-05T02:00:00.000Z'],
    ['weekend, from Saturday 01:00: the same day', weekend, '2026-11-28T01:00:00Z', '2026-11-28T02:00:00.000Z'],
    ['weekend, from Saturday 06:00: Sunday', weekend, '2026-11-28T06:00:00Z', '2026-11-29T02:00:00.000Z'],
    ['inside: now', weekend, '2026-11-28T04:00:00Z', '2026-11-28T04:00:00.000Z'],
    ['across midnight, from Saturday 02:00', fridayNight, '2026-11-28T02:00:00Z', '2026-12-04T22:00:00.000Z'],
    ['Kolkata, from Monday 00:00 UTC', kolkata, '2026-11-30T00:00:00Z', '2026-11-30T03:30:00.000Z'],
    ['Tokyo, from Monday 09:00 local', tokyoMidnight, '2026-11-30T00:00:00Z', '2026-12-06T14:00:00.000Z'],
    ['Berlin in summer (CEST)', win({ days: ['sat'], start: '02:00', end: '04:00', timeZone: 'Europe/Berlin' }), '2026-06-29T12:00:00Z', '2026-07-04T00:00:00.000Z'],
  ])('next start, %s', (_name, window, iso, next) => {
    expect(nextWindowStart(window, at(iso)).toISOString()).toBe(next);
  });

  it('describes a window in words', () => {
    expect(describeWindow(weekend)).toBe('sat,sun 02:00-05:00 UTC');
    expect(describeWindow(win({}))).toBe('every day 00:00-00:00 UTC');
  });
});

describe('fleet config', () => {
  it('defaults', () => {
    expect(FleetConfigSchema.parse({})).toEqual({ slots: 1, groups: [], leaseTtlSeconds: 10, waitTimeoutSeconds: 3600, delaySeconds: 0, jitterSeconds: 0 });
  });

  it.each([
    [{ window: { start: '25:00' } }, 'fleet.window.start: expected a time of day HH:MM (00:00 to 23:59), got "25:00"'],
    [{ window: { timeZone: 'Mars/Olympus' } }, 'fleet.window.timeZone: expected an IANA time zone ("UTC", "Europe/Berlin"), got "Mars/Olympus"'],
    [{ window: { days: ['someday'] } }, 'fleet.window.days[0]: expected one of sun, mon, tue, wed, thu, fri, sat, got "someday"'],
    [{ slots: 0 }, 'fleet.slots: expected a number >= 1, got number 0'],
    [{ leaseTtlSeconds: 1 }, 'fleet.leaseTtlSeconds: expected a number >= 2, got number 1'],
    [{ groups: [{ match: 'web-*', group: 'web tier' }] }, 'fleet.groups[0].group: expected a group name'],
    [{ lanes: 2 }, 'fleet.lanes: unknown key'],
  ])('%j is rejected, naming the field', (fleet, message) => {
    expect(() => parseConfig(JSON.stringify({ version: 1, fleet }), '/etc/restartd/config.json')).toThrow(message);
  });

  it('groups: first matching glob, else the unit itself', () => {
    const groups = FleetConfigSchema.parse({ groups: [{ match: 'web-*', group: 'web' }, { match: 'db*', group: 'db' }] }).groups;
    expect(groupOfUnit('web-3.service', groups)).toBe('web');
    expect(groupOfUnit('dbproxy.service', groups)).toBe('db');
    expect(groupOfUnit('cache.service', groups)).toBe('cache.service');
  });

  it('--fleet endpoints are http(s) URLs; an error names the flag and the entry', () => {
    expect(parseEndpoints('http://10.0.0.1:2379, https://etcd.example:2379')).toEqual(['http://10.0.0.1:2379', 'https://etcd.example:2379']);
    expect(() => parseEndpoints('http://a:2379,etcd:2379')).toThrow('--fleet: expected etcd client URLs http(s)://HOST:PORT, got "etcd:2379"');
    expect(() => parseEndpoints(' , ')).toThrow('--fleet: expected URL[,URL…], got nothing');
  });
});

describe('delay with jitter', () => {
  it('delaySeconds plus a random share of jitterSeconds', () => {
    expect(delayMsOf({ delaySeconds: 10, jitterSeconds: 20 }, () => 0)).toBe(10_000);
    expect(delayMsOf({ delaySeconds: 10, jitterSeconds: 20 }, () => 0.5)).toBe(20_000);
    expect(delayMsOf({ delaySeconds: 0, jitterSeconds: 0 }, () => 0.9)).toBe(0);
  });

  it('without etcd the gate only delays, once per run, and takes no slot', async () => {
    const gate = createFleetGate({ config: FleetConfigSchema.parse({ delaySeconds: 0.05, jitterSeconds: 0.1 }), host: 'here', random: () => 0.5 });
    const action: PlannedAction = { owner: { kind: 'system-unit', name: 'a.service' }, action: 'restart', reason: 't', pids: [], phase: 'restart', unit: 'a.service' };
    const delays: number[] = [];
    const started = performance.now();
    const holds = await Promise.all([1, 2].map(() => gate.acquire('a.service', action, () => {}, (ms) => delays.push(ms))));
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(delays).toEqual([100]);
    expect(holds.map((h) => h.slot)).toEqual([-1, -1]);
    await gate.close();
  });
});

describe('status: the fleet section (pure)', () => {
  it('a deferred switch, a slot waited for and one held', () => {
    const section = fleetSection({
      deferred: { version: 1, old: '/srv/r/v1', new: '/srv/r/v2', command: 'apply', deferredAt: '2026-11-30T10:00:00.000Z', nextWindowStart: '2026-12-05T02:00:00.000Z', window: 'sat,sun 02:00-05:00 UTC' },
      waiting: [{ group: 'web', unit: 'web-1.service', since: '2026-11-30T10:01:00.000Z', holders: [{ host: 'b', slot: 0, unit: 'web-2.service', since: '2026-11-30T10:00:30.000Z' }] }],
      holding: [{ group: 'db', unit: 'db.service', slot: 1, since: '2026-11-30T10:00:59.000Z' }],
    });
    expect(section).toEqual({
      title: 'fleet: 2 pending, 1 slot held',
      lines: [
        'deferred by apply at 2026-11-30T10:00:00.000Z: /srv/r/v1 -> /srv/r/v2, outside the maintenance window (sat,sun 02:00-05:00 UTC); it opens at 2026-12-05T02:00:00.000Z',
        'waiting since 2026-11-30T10:01:00.000Z: web-1.service for a slot of group web, held by b (web-2.service)',
        'holding since 2026-11-30T10:00:59.000Z: slot 1 of group db for db.service',
      ],
    });
  });

  it('nothing pending', () => {
    expect(fleetSection({ waiting: [], holding: [] })).toEqual({ title: 'fleet: nothing pending', lines: ['no deferred switch, no slot waited for'] });
  });
});
