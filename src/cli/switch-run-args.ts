import type { SourceKind } from '../generation/types.js';

/** The options `restartd hook` and `restartd watch` share with apply: how to read generations, the bus, the config, /proc, the state dir. */
export interface SwitchRunArgs {
  source?: SourceKind | undefined;
  storeDir?: string | undefined;
  bus?: string | undefined;
  config?: string | undefined;
  procRoot?: string | undefined;
  stateDir: string;
}
