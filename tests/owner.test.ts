import { describe, expect, it } from 'vitest';
import { ownerOf } from '../src/owner/owner-of.js';
import { parseCgroup } from '../src/scan/parse.js';
import type { Owner } from '../src/types/owner.js';

const image = (cgroup: string, pid = 100, kernelThread = false) => ({ pid, kernelThread, cgroup: parseCgroup(cgroup) });

const cases: Array<[string, string, Owner]> = [
  ['v2 system service', '0::/system.slice/nginx.service\n', { kind: 'system-unit', name: 'nginx.service', cgroup: '/system.slice/nginx.service' }],
  [
    'v2 service sub-cgroup',
    '0::/system.slice/postgresql@15-main.service/payload\n',
    { kind: 'system-unit', name: 'postgresql@15-main.service', cgroup: '/system.slice/postgresql@15-main.service/payload' },
  ],
  [
    'v1 name=systemd only',
    '5:cpu,cpuacct:/\n1:name=systemd:/system.slice/cron.service\n',
    { kind: 'system-unit', name: 'cron.service', cgroup: '/system.slice/cron.service' },
  ],
  [
    'hybrid with empty v2',
    '1:name=systemd:/system.slice/ssh.service\n0::/\n',
    { kind: 'system-unit', name: 'ssh.service', cgroup: '/system.slice/ssh.service' },
  ],
  [
    'nested manager prefix (a sandboxed systemd seen from the host) is a container, not the host unit',
    '0::/systemd-sandbox/system.slice/foo.service\n',
    { kind: 'container', name: 'systemd-sandbox', cgroup: '/systemd-sandbox/system.slice/foo.service' },
  ],
  [
    'a manager inside a delegated unit (systemd-nspawn with its own system.slice)',
    '0::/machine.slice/systemd-nspawn@web.service/payload/system.slice/nginx.service\n',
    { kind: 'container', name: 'systemd-nspawn@web.service', cgroup: '/machine.slice/systemd-nspawn@web.service/payload/system.slice/nginx.service' },
  ],
  [
    'a service with cgroups of its own below it stays the service',
    '0::/system.slice/build.service/worker-1\n',
    { kind: 'system-unit', name: 'build.service', cgroup: '/system.slice/build.service/worker-1' },
  ],
  [
    'user unit',
    '0::/user.slice/user-1000.slice/user@1000.service/app.slice/syncthing.service\n',
    { kind: 'user-unit', name: 'syncthing.service', uid: 1000, cgroup: '/user.slice/user-1000.slice/user@1000.service/app.slice/syncthing.service' },
  ],
  [
    'the user manager itself',
    '0::/user.slice/user-1000.slice/user@1000.service/init.scope\n',
    { kind: 'system-unit', name: 'user@1000.service', cgroup: '/user.slice/user-1000.slice/user@1000.service/init.scope' },
  ],
  [
    'login session',
    '0::/user.slice/user-1000.slice/session-3.scope\n',
    { kind: 'session-scope', name: 'session-3.scope', uid: 1000, cgroup: '/user.slice/user-1000.slice/session-3.scope' },
  ],
  [
    'docker (systemd driver)',
    '0::/system.slice/docker-0123456789abcdef0123456789abcdef.scope\n',
    { kind: 'container', name: '0123456789abcdef0123456789abcdef', cgroup: '/system.slice/docker-0123456789abcdef0123456789abcdef.scope' },
  ],
  ['docker (cgroupfs driver, v1)', '1:name=systemd:/docker/abcdef012345\n', { kind: 'container', name: 'abcdef012345', cgroup: '/docker/abcdef012345' }],
  [
    'machined container',
    '0::/machine.slice/machine-web1.scope/payload/system.slice/nginx.service\n',
    { kind: 'container', name: 'web1', cgroup: '/machine.slice/machine-web1.scope/payload/system.slice/nginx.service' },
  ],
  ['lxc', '0::/lxc.payload.db1/system.slice/x.service\n', { kind: 'container', name: 'db1', cgroup: '/lxc.payload.db1/system.slice/x.service' }],
  ['no cgroup at all', '0::/\n', { kind: 'process', name: 'pid:100' }],
];

describe('ownerOf', () => {
  it.each(cases)('%s', (_label, cgroup, owner) => {
    expect(ownerOf(image(cgroup))).toEqual(owner);
  });
  it('PID 1 and kernel threads have their own kinds', () => {
    expect(ownerOf(image('0::/init.scope\n', 1))).toEqual({ kind: 'pid1', name: 'init' });
    expect(ownerOf(image('0::/\n', 2, true))).toEqual({ kind: 'kernel-thread', name: 'pid:2' });
  });
});
