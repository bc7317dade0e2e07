export {
  ConfigSchema,
  UnitOverrideSchema,
  DEFAULT_CONFIG,
  configJsonSchema,
  type Config,
  type ConfigInput,
  type UnitOverride,
} from './schema.js';
export { loadConfig, parseConfig, DEFAULT_CONFIG_PATH, type LoadConfigOptions } from './load-config.js';
export { describeIssues } from './describe-issues.js';
