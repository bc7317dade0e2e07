import { describe, expect, it } from 'vitest';
import {
  fdinfoWritable,
  formatStatDev,
  isKernelThread,
  parseCgroup,
  parseMaps,
  parseStat,
  splitDeleted,
  unescapeMapsPath,
} from '../src/scan/parse.js';

describe('parseStat', () => {
  it('finds fields after a comm holding spaces and parentheses', () => {
    const text = '4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 200 18446744073709551615\n';
    expect(parseStat(text)).toEqual({ pid: 4242, comm: 'my (odd) proc', state: 'S', ppid: 1, flags: 4194560, startTime: 987654 });
  });
  it('recognises kernel threads by PF_KTHREAD', () => {
    const kthread = parseStat('2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0\n');
    expect(kthread && isKernelThread(kthread)).toBe(true);
  });
  it('rejects garbage', () => {
    expect(parseStat('nonsense')).toBeUndefined();
  });
});

describe('parseMaps', () => {
  const maps = [
    '55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1311   /usr/bin/cat',
    '7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ',
    '7f1000000000-7f1000001000 r-xp 00001000 fd:01 2222                       /srv/a dir/lib with spaces.so (deleted)',
    '7f2000000000-7f2000001000 r--s 00000000 00:01 3333                       /memfd:buffer (deleted)',
    '7f3000000000-7f3000001000 r--p 00000000 fd:01 4444                       /srv/new\\012line.so',
    '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]',
  ].join('\n');

  it('keeps named entries with their device and inode', () => {
    const entries = parseMaps(maps);
    expect(entries.map((e) => e.name)).toEqual([
      '/usr/bin/cat',
      '/srv/a dir/lib with spaces.so (deleted)',
      '/memfd:buffer (deleted)',
      '/srv/new\\012line.so',
      '[stack]',
    ]);
    expect(entries[1]).toMatchObject({ range: '7f1000000000-7f1000001000', perms: 'r-xp', dev: 'fd:01', ino: 2222 });
  });

  it('splits the deleted marker and unescapes newlines', () => {
    expect(splitDeleted('/srv/a dir/lib with spaces.so (deleted)')).toEqual({ path: '/srv/a dir/lib with spaces.so', deleted: true });
    expect(splitDeleted('/srv/x (deleted) (deleted)')).toEqual({ path: '/srv/x (deleted)', deleted: true });
    expect(splitDeleted('/usr/bin/cat')).toEqual({ path: '/usr/bin/cat', deleted: false });
    expect(unescapeMapsPath('/srv/new\\012line.so')).toBe('/srv/new\nline.so');
  });
});

describe('parseCgroup', () => {
  it('reads v1 and v2 lines', () => {
    const text = '12:pids:/system.slice/nginx.service\n1:name=systemd:/system.slice/nginx.service\n0::/system.slice/nginx.service\n';
    expect(parseCgroup(text)).toEqual([
      { hierarchy: '12', controllers: 'pids', path: '/system.slice/nginx.service' },
      { hierarchy: '1', controllers: 'name=systemd', path: '/system.slice/nginx.service' },
      { hierarchy: '0', controllers: '', path: '/system.slice/nginx.service' },
    ]);
  });
});

describe('devices and fdinfo', () => {
  it.each([
    [0xfd01, 'fd:01'],
    [0x803, '08:03'],
    [(259 << 8) | 2, '103:02'],
    [0x100012, '00:112'],
  ])('formats st_dev %i as %s', (dev, text) => {
    expect(formatStatDev(dev)).toBe(text);
  });
  it.each([
    ['pos:\t0\nflags:\t0100000\nmnt_id:\t25\n', false],
    ['pos:\t0\nflags:\t0100001\n', true],
    ['pos:\t0\nflags:\t02100002\n', true],
  ])('fdinfo %j writable=%s', (text, writable) => {
    expect(fdinfoWritable(text)).toBe(writable);
  });
});
