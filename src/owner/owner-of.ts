import type { CgroupEntry, ProcessImage } from '../types/process.js';
import type { Owner } from '../types/owner.js';

const UNIT_SUFFIX = /\.(?:service|scope|socket|mount|swap|slice|target|timer|path)$/;
const USER_MANAGER = /^user@(\d+)\.service$/;
const USER_SLICE = /^user-(\d+)\.slice$/;
const SESSION_SCOPE = /^session-[^/]+\.scope$/;
/** Container runtimes' cgroup names (systemd and cgroupfs drivers), and machined's scopes. */
const CONTAINER_SEGMENT =
  /^(?:docker-([0-9a-f]{12,})\.scope|libpod-(?:conmon-)?([0-9a-f]{12,})\.scope|crio-([0-9a-f]{12,})\.scope|cri-containerd-([0-9a-f]{12,})\.scope|lxc\.payload\.(.+)|machine-(.+)\.scope)$/;
const CGROUPFS_CONTAINER_PARENT = new Set(['docker', 'lxc', 'libpod_parent', 'machine']);

/** The cgroup path systemd placed the process in: the v2 line, else v1 "name=systemd". */
export function systemdCgroupPath(cgroup: readonly CgroupEntry[]): string | undefined {
  const v2 = cgroup.find((e) => e.hierarchy === '0' && e.controllers === '');
  if (v2 && v2.path !== '/') return v2.path;
  const v1 = cgroup.find((e) => e.controllers === 'name=systemd');
  return v1?.path ?? v2?.path;
}

/** Who can restart a process, from its /proc/PID/cgroup. Pure. */
export function ownerOf(image: Pick<ProcessImage, 'pid' | 'kernelThread' | 'cgroup'>): Owner {
  if (image.kernelThread) return { kind: 'kernel-thread', name: `pid:${image.pid}` };
  if (image.pid === 1) return { kind: 'pid1', name: 'init' };
  const path = systemdCgroupPath(image.cgroup);
  if (path === undefined || path === '/') return { kind: 'process', name: `pid:${image.pid}` };
  const owner = ownerFromCgroupPath(path);
  return owner ?? { kind: 'process', name: `pid:${image.pid}`, cgroup: path };
}

export function ownerFromCgroupPath(path: string): Owner | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  let sliceUid: number | undefined;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? '';
    const container = CONTAINER_SEGMENT.exec(segment);
    if (container) {
      const id = container.slice(1).find((g) => g !== undefined) ?? segment;
      return { kind: 'container', name: id, cgroup: path };
    }
    const parent = segments[i - 1];
    if (parent !== undefined && CGROUPFS_CONTAINER_PARENT.has(parent) && !UNIT_SUFFIX.test(segment)) {
      return { kind: 'container', name: segment, cgroup: path };
    }
    const slice = USER_SLICE.exec(segment);
    if (slice?.[1]) sliceUid = Number(slice[1]);
    const manager = USER_MANAGER.exec(segment);
    if (manager?.[1]) {
      const uid = Number(manager[1]);
      const inner = firstUnit(segments.slice(i + 1));
      if (inner === undefined || inner === 'init.scope') return { kind: 'system-unit', name: segment, cgroup: path };
      return { kind: 'user-unit', name: inner, uid, cgroup: path };
    }
    if (SESSION_SCOPE.test(segment)) {
      return { kind: 'session-scope', name: segment, ...(sliceUid === undefined ? {} : { uid: sliceUid }), cgroup: path };
    }
  }
  const unit = firstUnit(segments);
  if (unit === undefined) return undefined;
  return nestedManager(segments, unit) ?? { kind: 'system-unit', name: unit, cgroup: path };
}

/**
 * A subtree that another service manager runs (a container's systemd, a test sandbox): the host
 * manager lays out slices and units from its root, so a segment above the first unit that is
 * neither (`/systemd-sandbox-1/system.slice/dbus.service`), or a manager's layout below a unit that
 * delegates (`…/systemd-nspawn@web.service/payload/system.slice/nginx.service`), is a container:
 * never the host unit of the same name.
 */
function nestedManager(segments: readonly string[], unit: string): Owner | undefined {
  const at = segments.indexOf(unit);
  const foreign = segments.slice(0, at).find((segment) => !segment.endsWith('.slice'));
  const path = `/${segments.join('/')}`;
  if (foreign !== undefined) return { kind: 'container', name: foreign, cgroup: path };
  if (segments.slice(at + 1).some((segment) => segment.endsWith('.slice') || segment === 'init.scope')) {
    return { kind: 'container', name: unit, cgroup: path };
  }
  return undefined;
}

/** The outermost unit that is not a slice: cgroups a service makes below itself are not units of their own. */
function firstUnit(segments: readonly string[]): string | undefined {
  return segments.find((segment) => UNIT_SUFFIX.test(segment) && !segment.endsWith('.slice'));
}
