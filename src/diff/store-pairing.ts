import type { GenerationFile } from '../types/generation.js';
import { parseStoreName, storeKeys, storePathOf, type StoreName } from './store-names.js';

interface StorePathName {
  storePath: string;
  name: StoreName;
}

function namesOf(storePaths: Iterable<string>): StorePathName[] {
  const names: StorePathName[] = [];
  for (const storePath of storePaths) {
    const name = parseStoreName(storePath.slice(storePath.lastIndexOf('/') + 1));
    if (name) names.push({ storePath, name });
  }
  return names.sort((a, b) => (a.storePath < b.storePath ? -1 : a.storePath > b.storePath ? 1 : 0));
}

function groupBy(entries: StorePathName[], key: (name: StoreName) => string): Map<string, StorePathName[]> {
  const groups = new Map<string, StorePathName[]>();
  for (const entry of entries) {
    const group = groups.get(key(entry.name));
    if (group) group.push(entry);
    else groups.set(key(entry.name), [entry]);
  }
  return groups;
}

const ROUNDS: ReadonlyArray<{ key: (name: StoreName) => string; onlyLone: boolean }> = [
  { key: (name) => name.name, onlyLone: false },
  { key: (name) => `${name.pname}\0${name.output}`, onlyLone: true },
];

/**
 * Pairs the store paths of two closures, returned as new store path → old store path.
 * Like `nix store diff-closures`: the same path pairs with itself, then paths pair by name without
 * the hash (in hash order when a name repeats), then a lone old and a lone new path of the same
 * package and output pair across a version bump (`openssl-3.0.1` → `openssl-3.0.2`).
 */
export function pairStorePaths(oldClosure: ReadonlySet<string>, newClosure: ReadonlySet<string>): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const storePath of newClosure) if (oldClosure.has(storePath)) pairs.set(storePath, storePath);
  let olds = namesOf([...oldClosure].filter((p) => !newClosure.has(p)));
  let news = namesOf([...newClosure].filter((p) => !oldClosure.has(p)));
  for (const { key, onlyLone } of ROUNDS) {
    const oldGroups = groupBy(olds, key);
    const paired = new Set<string>();
    for (const [groupKey, newGroup] of groupBy(news, key)) {
      const oldGroup = oldGroups.get(groupKey) ?? [];
      if (onlyLone && (oldGroup.length !== 1 || newGroup.length !== 1)) continue;
      newGroup.forEach((newEntry, i) => {
        const oldEntry = oldGroup[i];
        if (!oldEntry) return;
        pairs.set(newEntry.storePath, oldEntry.storePath);
        paired.add(oldEntry.storePath).add(newEntry.storePath);
      });
    }
    olds = olds.filter((entry) => !paired.has(entry.storePath));
    news = news.filter((entry) => !paired.has(entry.storePath));
  }
  return pairs;
}

/**
 * Re-keys the new generation's files so that each new store path uses the key (`rel` prefix) of
 * the old store path it pairs with; unpaired new store paths keep a key no old path uses.
 */
export function alignStoreFiles(
  oldClosure: ReadonlySet<string>,
  newClosure: ReadonlySet<string>,
  newFiles: ReadonlyMap<string, GenerationFile>,
  storeDir: string,
): Map<string, GenerationFile> {
  const oldKeys = storeKeys(oldClosure);
  const pairs = pairStorePaths(oldClosure, newClosure);
  const assigned = new Map<string, string>();
  const used = new Set<string>();
  const pairedOld = new Set(pairs.values());
  for (const [oldPath, key] of oldKeys) if (!pairedOld.has(oldPath)) used.add(key);
  for (const [newPath, oldPath] of pairs) {
    const key = oldKeys.get(oldPath);
    if (key === undefined) continue;
    assigned.set(newPath, key);
    used.add(key);
  }
  for (const [newPath, ownKey] of storeKeys(newClosure)) {
    if (assigned.has(newPath)) continue;
    const name = ownKey.replace(/~\d+$/, '');
    let key = ownKey;
    for (let n = 2; used.has(key); n++) key = `${name}~${n}`;
    assigned.set(newPath, key);
    used.add(key);
  }

  const aligned = new Map<string, GenerationFile>();
  for (const [rel, file] of newFiles) {
    const storePath = storePathOf(file.path, storeDir);
    const key = storePath === undefined ? undefined : assigned.get(storePath);
    const slash = rel.indexOf('/');
    const newRel = key === undefined ? rel : key + (slash === -1 ? '' : rel.slice(slash));
    aligned.set(newRel, newRel === rel ? file : { ...file, rel: newRel });
  }
  return aligned;
}
