/** Where restartd looks for its config when `--config` is not given (kept free of zod: status reads it cheaply). */
export const DEFAULT_CONFIG_PATH = '/etc/restartd/config.json';
