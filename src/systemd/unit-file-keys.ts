import { UNIT_ACTIONS, type UnitAction, type UnitFacts } from '../types/plan.js';
import { lastAssignment, type UnitAssignment, type UnitFileWarning, type UnitSettings } from './unit-file.js';

/** The unit keys the policy reads from a unit's files. */
export type UnitKeys = Pick<UnitFacts, 'refuseManualStop' | 'refuseManualStart' | 'xRestartIfChanged' | 'xReloadIfChanged' | 'xStopIfChanged' | 'xOnlyManualStart' | 'xNotSocketActivated' | 'xRestartdAction'>;

export interface UnitKeysResult {
  keys: UnitKeys;
  /** Files that could not be read and values that could not be understood; those keys are left unset. */
  warnings: UnitFileWarning[];
}

const TRUE = new Set(['1', 'yes', 'y', 'true', 't', 'on']);
const FALSE = new Set(['0', 'no', 'n', 'false', 'f', 'off']);

/** A boolean as systemd parses one (parse_boolean): yes/no, true/false, on/off, 1/0, y/n, t/f; any case. */
export function parseBoolean(value: string): boolean | undefined {
  const lower = value.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  return undefined;
}

const BOOLEAN_KEYS = [
  ['refuseManualStop', 'RefuseManualStop', ['Unit']],
  ['refuseManualStart', 'RefuseManualStart', ['Unit']],
  ['xRestartIfChanged', 'X-RestartIfChanged', ['Unit', 'Service']],
  ['xReloadIfChanged', 'X-ReloadIfChanged', ['Unit', 'Service']],
  ['xStopIfChanged', 'X-StopIfChanged', ['Unit', 'Service']],
  ['xOnlyManualStart', 'X-OnlyManualStart', ['Unit', 'Service']],
  ['xNotSocketActivated', 'X-NotSocketActivated', ['Unit', 'Service']],
] as const;

/**
 * The policy's keys from a unit's folded settings. RefuseManualStop=/RefuseManualStart= are read from [Unit]; NixOS'
 * X- keys and X-Restartd-Action= from [Unit] or [Service] ([Service] wins when both set one).
 * Values that do not parse become warnings and leave the key unset. Pure.
 */
export function unitKeysFrom(settings: UnitSettings): UnitKeysResult {
  const keys: UnitKeys = {};
  const warnings: UnitFileWarning[] = [];
  for (const [field, key, sections] of BOOLEAN_KEYS) {
    const assignment = effective(settings, sections, key);
    if (!assignment) continue;
    const value = parseBoolean(assignment.value);
    if (value === undefined) warnings.push(badValue(assignment, 'a boolean (yes/no, true/false, on/off, 1/0)'));
    else keys[field] = value;
  }
  const action = effective(settings, ['Unit', 'Service'], 'X-Restartd-Action');
  if (action) {
    if (isUnitAction(action.value)) keys.xRestartdAction = action.value;
    else warnings.push(badValue(action, `one of ${UNIT_ACTIONS.join(', ')}`));
  }
  return { keys, warnings };
}

function effective(settings: UnitSettings, sections: readonly string[], key: string): UnitAssignment | undefined {
  let found: UnitAssignment | undefined;
  for (const section of sections) found = lastAssignment(settings, section, key) ?? found;
  return found;
}

function isUnitAction(value: string): value is UnitAction {
  return (UNIT_ACTIONS as readonly string[]).includes(value);
}

function badValue(assignment: UnitAssignment, expected: string): UnitFileWarning {
  return {
    file: assignment.file,
    line: assignment.line,
    message: `[${assignment.section}] ${assignment.key}=${assignment.value}: expected ${expected}, key ignored`,
  };
}
