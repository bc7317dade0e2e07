/** Who can restart a process. See DESIGN.md "Owner". */
export type OwnerKind =
  | 'system-unit'
  | 'user-unit'
  | 'session-scope'
  | 'container'
  | 'pid1'
  | 'kernel-thread'
  | 'process';

export interface Owner {
  kind: OwnerKind;
  /** Unit name ("nginx.service"), scope, container id, or "pid:N" for a bare process. */
  name: string;
  /** user-unit / session-scope: the uid whose manager or session holds it. */
  uid?: number;
  /** The cgroup path the owner was derived from. */
  cgroup?: string;
}
