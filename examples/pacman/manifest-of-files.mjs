// Absolute paths on stdin (one per line) -> a restartd manifest (schemas/manifest.schema.json) with
// root "/" on stdout. Files that vanished are left out (the diff then says "removed").
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

const files = [];
for (const path of readFileSync(0, 'utf8').split('\n')) {
  if (!path.startsWith('/') || path.length === 1) continue;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) continue;
    const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    files.push({ path: path.slice(1), sha256, size: stat.size });
  } catch {
    // gone between listing and hashing: not part of this generation
  }
}
process.stdout.write(`${JSON.stringify({ version: 1, root: '/', files })}\n`);
