import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configJsonSchema, ConfigSchema, DEFAULT_CONFIG, DEFAULT_CONFIG_PATH, loadConfig } from '../src/config/index.js';
import { defaultConfigAbsent } from '../src/config/paths.js';
import { RestartdError } from '../src/errors.js';

let tmp: string;

function writeConfig(name: string, config: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
}

beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'restartd-config-')));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('the defaults', () => {
    expect(DEFAULT_CONFIG).toEqual({ version: 1, units: [], protect: [], unprotect: [], jobTimeoutSeconds: 300, settleSeconds: 2, concurrency: 4 });
    expect(DEFAULT_CONFIG_PATH).toBe('/etc/restartd/config.json');
    // Written out (so that no config file means no zod): it must be what the schema makes of the minimum.
    expect(DEFAULT_CONFIG).toEqual(ConfigSchema.parse({ version: 1 }));
  });

  it('only a default file that is certainly absent means the defaults unread; an unreadable dir goes to loadConfig', () => {
    expect(defaultConfigAbsent(join(tmp, 'absent.json'))).toBe(true);
    expect(defaultConfigAbsent(join(tmp, 'absent-dir', 'config.json'))).toBe(true);
    const file = join(tmp, 'a-file');
    writeFileSync(file, '{}');
    expect(defaultConfigAbsent(file)).toBe(false);
    // A path through a regular file is ENOTDIR, not ENOENT: loadConfig reads it and says what is wrong.
    expect(defaultConfigAbsent(join(file, 'config.json'))).toBe(false);
  });

  it('a missing default file means the defaults', async () => {
    await expect(loadConfig(undefined, { defaultPath: join(tmp, 'absent.json') })).resolves.toEqual(DEFAULT_CONFIG);
  });

  it('a missing --config file is an error', async () => {
    const path = join(tmp, 'absent.json');
    const error = await loadConfig(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestartdError);
    expect(error).toMatchObject({ code: 'BAD_CONFIG', subject: path, message: `config ${path}: cannot read (ENOENT)` });
  });

  it('a present default file is read and validated', async () => {
    const path = writeConfig('default.json', { version: 1, concurrency: 'many' });
    await expect(loadConfig(undefined, { defaultPath: path })).rejects.toThrow(`config ${path}: concurrency: expected a number, got "many"`);
  });

  it('fills in defaults', async () => {
    const path = writeConfig('small.json', { version: 1, units: [{ match: 'nginx', action: 'reload' }] });
    await expect(loadConfig(path)).resolves.toEqual({ ...DEFAULT_CONFIG, units: [{ match: 'nginx', action: 'reload' }] });
  });

  it('notify: each channel on unless turned off', async () => {
    const path = writeConfig('notify.json', { version: 1, notify: { terminal: false } });
    await expect(loadConfig(path)).resolves.toMatchObject({ notify: { desktop: true, terminal: false } });
  });

  it('examples/config.json is a valid config', async () => {
    const config = await loadConfig(join(import.meta.dirname, '../examples/config.json'));
    expect(config.units.map((u) => u.action)).toEqual(['reload', 'skip', 'stop-start']);
  });
});

describe('config errors name the file, the field, what was expected and what was found', () => {
  const unit = (action: unknown) => ({ match: 'x', action });
  it.each([
    ['bad action', { version: 1, units: [unit('restart'), unit('reload'), unit('bounce')] }, 'units[2].action: expected one of restart, reload, stop-start, notify, skip, got "bounce"'],
    ['unknown top-level key', { version: 1, unit: [] }, 'unit: unknown key'],
    ['unknown nested key', { version: 1, units: [{ match: 'x', action: 'skip', why: 'no' }] }, 'units[0].why: unknown key'],
    ['wrong version', { version: 2 }, 'version: expected 1, got number 2'],
    ['no version', {}, 'version: expected 1, got nothing'],
    ['missing action', { version: 1, units: [{ match: 'x' }] }, 'units[0].action: expected one of restart, reload, stop-start, notify, skip, got nothing'],
    ['units not an array', { version: 1, units: { nginx: 'skip' } }, 'units: expected an array, got an object'],
    ['match not a string', { version: 1, units: [{ match: 7, action: 'skip' }] }, 'units[0].match: expected a string, got number 7'],
    ['bad glob', { version: 1, protect: ['getty@[0-9'] }, 'protect[0]: glob "getty@[0-9" has an unterminated ['],
    ['empty glob', { version: 1, unprotect: [''] }, 'unprotect[0]: expected a unit name or glob, got an empty string'],
    ['zero concurrency', { version: 1, concurrency: 0 }, 'concurrency: expected a number >= 1, got number 0'],
    ['fractional concurrency', { version: 1, concurrency: 1.5 }, 'concurrency: expected an integer, got number 1.5'],
    ['negative timeout', { version: 1, jobTimeoutSeconds: -5 }, 'jobTimeoutSeconds: expected a number > 0, got number -5'],
    ['relative scratch dir', { version: 1, scratchDirs: ['tmp'] }, 'scratchDirs[0]: expected an absolute path, got "tmp"'],
    ['notify not a boolean', { version: 1, notify: { desktop: 'no' } }, 'notify.desktop: expected a boolean, got "no"'],
    ['unknown notify channel', { version: 1, notify: { email: true } }, 'notify.email: unknown key'],
    ['not an object', [1, 2], 'expected an object, got an array'],
    ['several problems', { version: 1, a: 1, b: 2, concurrency: 0, units: 'x' }, 'units: expected an array, got "x"; concurrency: expected a number >= 1, got number 0; a: unknown key (and 1 more)'],
    ['not JSON', '{ "version": 1,', 'not valid JSON'],
  ])('%s', async (name, config, detail) => {
    const path = writeConfig(`${name.replaceAll(' ', '-')}.json`, config);
    const error = await loadConfig(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestartdError);
    expect(error).toMatchObject({ code: 'BAD_CONFIG', subject: path });
    if (name === 'not JSON') expect((error as Error).message).toContain(`config ${path}: not valid JSON: `);
    else expect((error as Error).message).toBe(`config ${path}: ${detail}`);
  });
});

describe('config schema', () => {
  it('schemas/config.schema.json is generated from ConfigSchema', async () => {
    await expect(`${JSON.stringify(configJsonSchema(), null, 2)}\n`).toMatchFileSnapshot('../schemas/config.schema.json');
  });

  it('the published schema keeps unknown keys out and names the actions', () => {
    const schema = configJsonSchema();
    expect(schema).toMatchObject({ additionalProperties: false, required: ['version'] });
    expect(JSON.stringify(schema)).toContain('"enum":["restart","reload","stop-start","notify","skip"]');
  });

  it('ConfigSchema is the type source', () => {
    expect(ConfigSchema.parse({ version: 1, units: [{ match: 'a', action: 'notify', reason: 'update-aware' }] }).units[0]).toEqual({
      match: 'a',
      action: 'notify',
      reason: 'update-aware',
    });
  });
});
