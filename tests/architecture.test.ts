import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderUsage } from '../src/cli/usage.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');

function files(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path, pattern);
    return pattern.test(entry.name) ? [path] : [];
  });
}

/** Folder (or top-level module) → the folders it imports, type imports included. */
function folderGraph(): Map<string, Set<string>> {
  const unit = (file: string): string => {
    const parts = relative(SRC, file).split(sep);
    return parts.length > 1 ? `${parts[0]}/` : (parts[0] ?? '').replace(/\.ts$/, '');
  };
  const graph = new Map<string, Set<string>>();
  for (const file of files(SRC, /\.ts$/)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const target = resolve(dirname(file), m[1] ?? m[2] ?? '').replace(/\.js$/, '.ts');
      const [a, b] = [unit(file), unit(target)];
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)?.add(b);
    }
  }
  return graph;
}

/** Every folder from which `start` is reachable back: a cycle. */
function cyclesThrough(graph: Map<string, Set<string>>): string[] {
  const cycles: string[] = [];
  for (const start of graph.keys()) {
    const seen = new Set<string>();
    const stack = [...(graph.get(start) ?? [])].map((next) => [start, next]);
    while (stack.length > 0) {
      const path = stack.pop() ?? [];
      const last = path[path.length - 1] ?? '';
      if (last === start) {
        cycles.push(path.join(' -> '));
        break;
      }
      if (seen.has(last)) continue;
      seen.add(last);
      for (const next of graph.get(last) ?? []) stack.push([...path, next]);
    }
  }
  return cycles;
}

describe('the shape of src/', () => {
  it('has no folder-level import cycle (type imports count)', () => {
    expect(cyclesThrough(folderGraph())).toEqual([]);
  });

  it('the vocabulary (src/types) imports no other folder', () => {
    expect([...(folderGraph().get('types/') ?? [])]).toEqual([]);
  });

  it('names no issue numbers in code, schemas or --help (history, not design)', () => {
    const offenders = [...files(SRC, /\.ts$/), ...files(join(ROOT, 'schemas'), /\.json$/)]
      .filter((file) => /\bissue #?\d+\b/i.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    expect(offenders).toEqual([]);
    expect(renderUsage()).not.toMatch(/\bissue #?\d+\b/i);
  });
});
