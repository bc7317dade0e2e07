import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateProgram } from '../src/interp/locate-program.js';
import { programOf } from '../src/interp/program-of.js';
import { RootView } from '../src/interp/root-view.js';
import { scratchRoot } from './support/scratch.js';

const NOBODY = { uid: 65534, gids: [65534] };
const ROOT = { uid: 0, gids: [0] };

/** A perl process whose argv names `script`, as restartd would locate it. */
function locatePerl(script: string, reader: { uid: number; gids: number[] }) {
  const argv = ['perl', script];
  return locateProgram({ exe: '/usr/bin/perl', argv, cwd: '/', reader }, 'perl', programOf('perl', argv), new RootView(''));
}

describe("an interpreted program is read only where its process could read, never through links into /proc", () => {
  const scratch = scratchRoot('interp-reach');
  const libScratch = scratchRoot('interp-reach-lib');
  const { root } = scratch;
  const secretLib = `${libScratch.root}/secret-lib`;

  beforeAll(() => {
    mkdirSync(secretLib);
    // A root-only program whose `use lib` line reveals a dir: read, the dir is one of its trees.
    writeFileSync(`${root}/root-only.pl`, `use lib '${secretLib}';\nsleep 1;\n`);
    chmodSync(`${root}/root-only.pl`, 0o600);
    symlinkSync('/proc/kmsg', `${root}/kmsg.pl`);
    symlinkSync('/proc/self/environ', `${root}/environ.pl`);
    symlinkSync('/dev/zero', `${root}/zero.pl`);
  });
  afterAll(() => {
    scratch.remove();
    libScratch.remove();
  });

  it("a source the target's uid can't read is not read for it (perl /etc/shadow)", () => {
    expect(locatePerl(`${root}/root-only.pl`, ROOT)?.trees).toContain(secretLib);
    const asNobody = locatePerl(`${root}/root-only.pl`, NOBODY);
    expect(asNobody?.file).toBe(`${root}/root-only.pl`);
    expect(asNobody?.trees).not.toContain(secretLib);
  });

  it.each(['kmsg', 'environ', 'zero'])('a program linked to %s is judged where the link leads: nothing located, nothing read', (name) => {
    expect(locatePerl(`${root}/${name}.pl`, ROOT)).toBeUndefined();
  });

  it('inside another root, an absolute link stays inside it', () => {
    mkdirSync(`${root}/jail/app`, { recursive: true });
    writeFileSync(`${root}/jail/etc-passwd`, 'inside\n');
    symlinkSync('/etc-passwd', `${root}/jail/app/prog.pl`);
    const view = new RootView(`${root}/jail`);
    expect(view.realpath('/app/prog.pl')).toBe('/etc-passwd');
    // Climbing past its "/" stays at its "/": the host's /etc/shadow is not there.
    symlinkSync('../../../../../../etc/shadow', `${root}/jail/app/up.pl`);
    expect(view.realpath('/app/up.pl')).toBeUndefined();
    expect(view.readHead('/app/up.pl', 100)).toBeUndefined();
  });
});
