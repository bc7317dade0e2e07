/** Colour only on a terminal, and never when NO_COLOR is set to anything but "" (no-color.org). Pure. */
export function wantsColour(isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean {
  const noColour = env['NO_COLOR'];
  return isTTY === true && (noColour === undefined || noColour === '') && env['TERM'] !== 'dumb';
}
