import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';

/**
 * A scratch root for tests that start real processes. It lives under /srv, not /tmp: restartd
 * (like needrestart) ignores deleted files under /tmp, /var and /run on purpose.
 */
export function scratchRoot(label: string): { root: string; remove(): void } {
  const root = `/srv/restartd-test-${label}-${randomBytes(4).toString('hex')}`;
  mkdirSync(root, { recursive: true });
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
