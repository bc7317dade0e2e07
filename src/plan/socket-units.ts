import type { Decision, UnitFacts } from '../types/plan.js';
import { compare } from './evidence.js';

/** What `socketsToChange` needs to know beyond the service's own facts. */
export interface SocketContext {
  /** Facts of the sockets, looked up by unit name (of the service's manager). */
  facts: (socket: string) => UnitFacts | undefined;
  /** Whether the socket unit owns a stale process itself. */
  isStale: (socket: string) => boolean;
}

/**
 * The socket units (TriggeredBy=) that a service's restart or stop-start acts on. Pure.
 *
 * A restart leaves them alone — systemd keeps the listening sockets open while the service
 * restarts, and connections queue for the new process (as `systemctl restart` and
 * switch-to-configuration-ng do) — unless the socket unit itself must change: its unit file
 * changed, or it owns stale processes itself. A stop-start (the service's unit file changed) takes
 * them down with it, so no connection re-activates the old definition before the daemon-reload.
 * `X-NotSocketActivated=true` services never act on their sockets, and a socket that is not loaded
 * (not found, masked), not active, or unknown to the manager is never touched: the admin or the
 * distribution left it so, and its service does not depend on it to restart.
 */
export function socketsToChange(decision: Decision, service: UnitFacts | undefined, context: SocketContext): string[] {
  if (decision.action !== 'restart' && decision.action !== 'stop-start') return [];
  if (service === undefined || service.xNotSocketActivated === true) return [];
  const sockets = (service.triggeredBy ?? []).filter((unit) => unit.endsWith('.socket'));
  const chosen = sockets.filter((socket) => {
    const facts = context.facts(socket);
    if (facts === undefined || !isLiveSocket(facts)) return false;
    return decision.action === 'stop-start' || facts.unitFileChanged === true || context.isStale(socket);
  });
  return [...new Set(chosen)].sort(compare);
}

// LoadState and ActiveState as the bus reports them; facts without them (a plan built by hand) count as live.
function isLiveSocket(facts: UnitFacts): boolean {
  return (facts.loadState === undefined || facts.loadState === 'loaded') && (facts.activeState === undefined || facts.activeState === 'active');
}
