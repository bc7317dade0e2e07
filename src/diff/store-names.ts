/** One store path's basename, taken apart the way `nix store diff-closures` groups paths. */
export interface StoreName {
  /** `<hash>-<name>` */
  base: string;
  hash: string;
  /** The name without the hash: `openssl-3.0.13-bin`. */
  name: string;
  /** Package name without version and output: `openssl`. */
  pname: string;
  version: string;
  /** Output suffix (`bin`, `dev`, `lib`…), or '' for the default output. */
  output: string;
}

const BASE = /^([0-9a-z]{32})-(.+)$/;
// diff-closures strips an output suffix the same (admittedly ambiguous) way.
const OUTPUT = /^(.*)-([a-z]+|lib32|lib64)$/;

/** Splits `<hash>-<name>`; undefined when the basename is not a store path. */
export function parseStoreName(base: string): StoreName | undefined {
  const match = BASE.exec(base);
  if (!match?.[1] || !match[2]) return undefined;
  const name = match[2];
  const outputMatch = OUTPUT.exec(name);
  const drvName = outputMatch?.[1] ?? name;
  const output = outputMatch?.[2] ?? '';
  // Nix's DrvName: the version starts at the first dash followed by a non-letter.
  const dash = /-[^a-zA-Z]/.exec(drvName)?.index;
  return {
    base,
    hash: match[1],
    name,
    pname: dash === undefined ? drvName : drvName.slice(0, dash),
    version: dash === undefined ? '' : drvName.slice(dash + 1),
    output,
  };
}

/** The store path (`<storeDir>/<hash>-<name>`) a path lies in, or undefined. */
export function storePathOf(path: string, storeDir: string): string | undefined {
  const prefix = `${storeDir}/`;
  if (!path.startsWith(prefix)) return undefined;
  const slash = path.indexOf('/', prefix.length);
  const storePath = slash === -1 ? path : path.slice(0, slash);
  return parseStoreName(storePath.slice(prefix.length)) ? storePath : undefined;
}

function baseOf(storePath: string): string {
  return storePath.slice(storePath.lastIndexOf('/') + 1);
}

/**
 * The pairing key (`rel` prefix) of each store path in a closure: its name without the hash.
 * Store paths sharing a name are told apart by hash order: `name`, `name~2`, `name~3`
 * (`~` cannot occur in a store name, so these never collide with a real one).
 */
export function storeKeys(closure: Iterable<string>): Map<string, string> {
  const byName = new Map<string, string[]>();
  for (const storePath of [...closure].sort()) {
    const name = parseStoreName(baseOf(storePath))?.name ?? baseOf(storePath);
    const group = byName.get(name);
    if (group) group.push(storePath);
    else byName.set(name, [storePath]);
  }
  const keys = new Map<string, string>();
  for (const [name, group] of byName) {
    group.forEach((storePath, i) => keys.set(storePath, i === 0 ? name : `${name}~${i + 1}`));
  }
  return keys;
}
