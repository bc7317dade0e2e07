/** How a generation is read. See DESIGN.md "Generation". */
export type SourceKind = 'dir' | 'nix' | 'manifest';

/** One file of a generation. `rel` is the key files pair by across generations. */
export interface GenerationFile {
  /** Absolute path of the file on this host. */
  path: string;
  /** Pairing key: the path relative to the generation root (dir, manifest) or `name/rel` inside a store path (nix). */
  rel: string;
  /** Size in bytes; -1 when unknown (a manifest entry without `size`). */
  size: number;
  /** Device and inode, when the file was stat()ed (dir, nix); lets hardlinked trees compare without reading. */
  dev?: number;
  ino?: number;
  /** Symlink target, when the entry is a symlink (compared instead of content). */
  link?: string;
  /** Content hash (hex sha256), when known up front (manifest) or computed while diffing. */
  sha256?: string;
}

export interface Generation {
  source: SourceKind;
  /** What the user named: a directory, a profile link, a manifest file. */
  path: string;
  /** Regular files and symlinks, by `rel`. */
  files: Map<string, GenerationFile>;
  /** nix: the store paths of the generation's closure, and the store dir they live in. */
  closure?: Set<string>;
  storeDir?: string;
  /** Paths left out because they could not be read (EACCES), so a partial listing is visible. */
  unreadable?: string[];
}

export interface FileChangeChanged {
  rel: string;
  oldPath: string;
  newPath: string;
}

export interface FileChangeRemoved {
  rel: string;
  path: string;
}

/** Per old file: unchanged | changed (-> new path) | removed, plus added. See DESIGN.md "ChangeSet". */
export interface ChangeSet {
  old: { source: SourceKind; path: string };
  new: { source: SourceKind; path: string };
  changed: FileChangeChanged[];
  removed: FileChangeRemoved[];
  added: FileChangeRemoved[];
  unchanged: number;
  /** nix: store paths in the old closure and not in the new one. */
  leftGeneration?: string[];
  storeDir?: string;
}
