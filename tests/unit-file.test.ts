import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldUnitFiles, lastAssignment, parseUnitFile } from '../src/systemd/unit-file.js';
import { parseBoolean, unitKeysFrom } from '../src/systemd/unit-file-keys.js';
import { readUnitKeys } from '../src/systemd/unit-file-read.js';

const values = (text: string) => parseUnitFile(text, 'a.service').assignments.map(({ section, key, value, line }) => `${line} [${section}] ${key}=${value}`);

describe('parseUnitFile', () => {
  it('sections, assignments, comments and whitespace', () => {
    const text = ['# comment', '; also a comment', '[Unit]', 'Description = My service  ', '  RefuseManualStop=yes', '', '[Service]', 'ExecStart=/bin/app --flag=1', 'X-Restartd-Action=reload'].join('\n');
    expect(values(text)).toEqual([
      '4 [Unit] Description=My service',
      '5 [Unit] RefuseManualStop=yes',
      '8 [Service] ExecStart=/bin/app --flag=1',
      '9 [Service] X-Restartd-Action=reload',
    ]);
  });

  it('continuation lines: the backslash becomes a space, comments inside are skipped', () => {
    const text = ['[Service]', 'ExecStart=/bin/app \\', '  --one \\', '# a comment in the middle', '; and another', '  --two', 'Type=simple', 'Last=a\\'].join('\n');
    expect(values(text)).toEqual(['2 [Service] ExecStart=/bin/app    --one    --two', '7 [Service] Type=simple', '8 [Service] Last=a']);
  });

  it('CRLF line ends', () => {
    expect(values('[Unit]\r\nA=1\r\nB=2\r\n')).toEqual(['2 [Unit] A=1', '3 [Unit] B=2']);
  });

  it('what it cannot use becomes warnings, never an exception', () => {
    const parsed = parseUnitFile(['Orphan=1', '[Unit', 'Lost=1', '[Unit]', 'no equals sign', '=value', 'Ok=1'].join('\n'), '/etc/systemd/system/a.service');
    expect(parsed.assignments.map((a) => `${a.key}=${a.value}`)).toEqual(['Ok=1']);
    expect(parsed.warnings).toEqual([
      { file: '/etc/systemd/system/a.service', line: 1, message: 'Orphan= is outside any section, ignored' },
      { file: '/etc/systemd/system/a.service', line: 2, message: 'invalid section header "[Unit", section ignored' },
      { file: '/etc/systemd/system/a.service', line: 3, message: 'Lost= is outside any section, ignored' },
      { file: '/etc/systemd/system/a.service', line: 5, message: 'not a Key=Value assignment: "no equals sign", ignored' },
      { file: '/etc/systemd/system/a.service', line: 6, message: 'not a Key=Value assignment: "=value", ignored' },
    ]);
  });
});

describe('foldUnitFiles', () => {
  const fragment = parseUnitFile('[Unit]\nRefuseManualStop=no\n[Service]\nExecStartPre=/bin/one\nExecStartPre=/bin/two\nEnvironment=A=1\n', 'fragment');
  const dropIn = parseUnitFile('[Unit]\nRefuseManualStop=yes\n[Service]\nExecStartPre=\nExecStartPre=/bin/three\nEnvironment=B=2\n', 'drop-in');

  it('later assignments override, lists accumulate, an empty assignment resets', () => {
    const settings = foldUnitFiles([fragment, dropIn]);
    expect(lastAssignment(settings, 'Unit', 'RefuseManualStop')).toMatchObject({ value: 'yes', file: 'drop-in', line: 2 });
    expect(settings.get('Service')?.get('ExecStartPre')?.map((a) => a.value)).toEqual(['/bin/three']);
    expect(settings.get('Service')?.get('Environment')?.map((a) => a.value)).toEqual(['A=1', 'B=2']);
  });

  it('a reset with nothing after it leaves the key unset', () => {
    const settings = foldUnitFiles([fragment, parseUnitFile('[Unit]\nRefuseManualStop=\n', 'reset')]);
    expect(lastAssignment(settings, 'Unit', 'RefuseManualStop')).toBeUndefined();
  });
});

describe('unit keys', () => {
  it.each([
    ['1', true], ['yes', true], ['Y', true], ['true', true], ['t', true], ['ON', true],
    ['0', false], ['no', false], ['n', false], ['False', false], ['f', false], ['off', false],
    ['maybe', undefined], ['', undefined], ['2', undefined],
  ])('parseBoolean(%j) = %s', (text, expected) => {
    expect(parseBoolean(text)).toBe(expected);
  });

  it('reads RefuseManualStop from [Unit] and the X- keys from [Unit] or [Service], [Service] winning', () => {
    const file = parseUnitFile(
      ['[Unit]', 'RefuseManualStop=true', 'X-RestartIfChanged=true', 'X-StopIfChanged=false', '[Service]', 'RefuseManualStop=no', 'X-RestartIfChanged=false', 'X-ReloadIfChanged=yes', 'X-Restartd-Action=stop-start'].join('\n'),
      'a.service',
    );
    expect(unitKeysFrom(foldUnitFiles([file]))).toEqual({
      keys: { refuseManualStop: true, xRestartIfChanged: false, xReloadIfChanged: true, xStopIfChanged: false, xRestartdAction: 'stop-start' },
      warnings: [],
    });
  });

  it('reads RefuseManualStart from [Unit] and NixOS X-OnlyManualStart, X-NotSocketActivated', () => {
    const file = parseUnitFile(['[Unit]', 'RefuseManualStart=yes', 'X-OnlyManualStart=true', '[Service]', 'X-NotSocketActivated=yes'].join('\n'), 'a.service');
    expect(unitKeysFrom(foldUnitFiles([file]))).toEqual({ keys: { refuseManualStart: true, xOnlyManualStart: true, xNotSocketActivated: true }, warnings: [] });
  });

  it('garbage values are warnings that name the file, line and key; the key stays unset', () => {
    const file = parseUnitFile('[Unit]\nRefuseManualStop=perhaps\n[Service]\nX-Restartd-Action=bounce\nX-ReloadIfChanged=1\n', '/etc/systemd/system/a.service');
    expect(unitKeysFrom(foldUnitFiles([file]))).toEqual({
      keys: { xReloadIfChanged: true },
      warnings: [
        { file: '/etc/systemd/system/a.service', line: 2, message: '[Unit] RefuseManualStop=perhaps: expected a boolean (yes/no, true/false, on/off, 1/0), key ignored' },
        { file: '/etc/systemd/system/a.service', line: 4, message: '[Service] X-Restartd-Action=bounce: expected one of restart, reload, stop-start, notify, skip, key ignored' },
      ],
    });
  });
});

describe('readUnitKeys on real files', () => {
  let root: string;
  const put = (path: string, text: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };

  beforeAll(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'restartd-unit-files-')));
    put('/usr/lib/systemd/system/web.service', '[Unit]\nDescription=web\n[Service]\nExecStart=/bin/web \\\n  --port 80\nX-ReloadIfChanged=true\nX-Restartd-Action=reload\n');
    put('/etc/systemd/system/web.service.d/10-policy.conf', '[Service]\nX-Restartd-Action=skip\n');
    put('/run/systemd/system/web.service.d/20-reset.conf', '[Service]\nX-ReloadIfChanged=\n');
    put('/etc/systemd/system/bad.service', '[Unit]\nRefuseManualStop=sometimes\n');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('the fragment, then drop-ins in order, through a root prefix', async () => {
    const result = await readUnitKeys(
      '/usr/lib/systemd/system/web.service',
      ['/etc/systemd/system/web.service.d/10-policy.conf', '/run/systemd/system/web.service.d/20-reset.conf'],
      { rootPrefix: root },
    );
    expect(result).toEqual({ keys: { xRestartdAction: 'skip' }, warnings: [] });
  });

  it('drop-in order matters', async () => {
    const result = await readUnitKeys('/usr/lib/systemd/system/web.service', ['/run/systemd/system/web.service.d/20-reset.conf'], { rootPrefix: root });
    expect(result.keys).toEqual({ xRestartdAction: 'reload' });
  });

  it('without a prefix, paths are read as given', async () => {
    const result = await readUnitKeys(join(root, '/usr/lib/systemd/system/web.service'));
    expect(result.keys).toEqual({ xReloadIfChanged: true, xRestartdAction: 'reload' });
  });

  it('missing files and bad values are warnings, not failures', async () => {
    const result = await readUnitKeys('/etc/systemd/system/bad.service', ['/etc/systemd/system/bad.service.d/missing.conf', '/etc/systemd/system'], { rootPrefix: root });
    expect(result).toEqual({
      keys: {},
      warnings: [
        { file: '/etc/systemd/system/bad.service.d/missing.conf', message: 'cannot read (ENOENT), ignored' },
        { file: '/etc/systemd/system', message: 'not a regular file, ignored' },
        { file: '/etc/systemd/system/bad.service', line: 2, message: '[Unit] RefuseManualStop=sometimes: expected a boolean (yes/no, true/false, on/off, 1/0), key ignored' },
      ],
    });
  });

  it('a masked unit (/dev/null) and a unit without files have no keys', async () => {
    await expect(readUnitKeys('/dev/null', [], { rootPrefix: root })).resolves.toEqual({ keys: {}, warnings: [] });
    await expect(readUnitKeys(undefined)).resolves.toEqual({ keys: {}, warnings: [] });
    await expect(readUnitKeys('', [])).resolves.toEqual({ keys: {}, warnings: [] });
  });
});
