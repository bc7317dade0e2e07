import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendJsonLine, readJsonFile, readJsonLines, writeFileDurably } from '../src/journal/durable-file.js';
import { ensureStateDir } from '../src/journal/state-dir.js';
import { SwitchJournal } from '../src/journal/switch-journal.js';
import type { Plan } from '../src/types/plan.js';
import { runCli } from './support/cli.js';

const NOBODY = 65534;
const plan: Plan = { daemonReload: false, actions: [] };

describe('the state dir is ours or nothing', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'restartd-trust-'));
    chmodSync(dir, 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a state dir writable by others is refused, named, exit 3, before anything runs', async () => {
    chmodSync(dir, 0o777);
    expect(() => ensureStateDir(dir)).toThrow(expect.objectContaining({ code: 'UNSAFE_STATE', message: expect.stringContaining(`state dir ${dir}: the dir itself is writable by group or others (mode 777)`) }));
    const run = await runCli(['apply', '--state-dir', dir, '--old', '/srv/none-old', '--new', '/srv/none-new']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`state dir ${dir}: the dir itself is writable by group or others`);
    expect(run.stderr).not.toContain('internal error');
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });

  it('a state dir or a file in it owned by another user is refused', () => {
    chownSync(dir, NOBODY, NOBODY);
    expect(() => ensureStateDir(dir)).toThrow(expect.objectContaining({ code: 'UNSAFE_STATE', message: expect.stringContaining(`is owned by uid ${NOBODY}`) }));
    chownSync(dir, 0, 0);
    writeFileSync(join(dir, 'pending.json'), '{}');
    chownSync(join(dir, 'pending.json'), NOBODY, NOBODY);
    expect(() => ensureStateDir(dir)).toThrow(expect.objectContaining({ code: 'UNSAFE_STATE', message: expect.stringContaining('pending.json is owned by uid 65534') }));
  });

  it.each([
    ['switches is a file', () => writeFileSync(join(dir, 'switches'), 'x'), 'switches is not a directory'],
    ['lock is a directory', () => mkdirSync(join(dir, 'lock')), 'lock is a directory, not a file'],
    ['a link planted in the dir', () => symlinkSync('/etc/shadow', join(dir, 'pending.json')), 'pending.json is a symbolic link'],
  ])('%s: a named error, not an internal one', (_name, plant, message) => {
    plant();
    expect(() => ensureStateDir(dir)).toThrow(expect.objectContaining({ code: 'UNSAFE_STATE', message: expect.stringContaining(message) }));
  });

  it('journal.jsonl or plan.json a directory: named errors', () => {
    const journal = new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2');
    mkdirSync(join(journal.dir, 'journal.jsonl'));
    expect(() => new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2')).toThrow(expect.objectContaining({ code: 'UNSAFE_STATE', message: expect.stringContaining('journal.jsonl is a directory, not a file') }));
    expect(() => readJsonLines(join(journal.dir, 'journal.jsonl'))).toThrow(expect.objectContaining({ code: 'UNSAFE_STATE' }));
    expect(() => appendJsonLine(join(journal.dir, 'journal.jsonl'), {})).toThrow(expect.objectContaining({ code: 'UNSAFE_STATE', message: expect.stringContaining('is a directory, not a file') }));
    mkdirSync(join(dir, 'p.json'));
    expect(() => readJsonFile(join(dir, 'p.json'))).toThrow(expect.objectContaining({ code: 'UNSAFE_STATE', message: expect.stringContaining('is a directory, not a regular file') }));
    expect(() => writeFileDurably(join(dir, 'p.json'), '{}')).toThrow(expect.objectContaining({ code: 'UNSAFE_STATE' }));
    // Nothing left behind: no temp file beside it.
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('a link planted at the temp name is replaced, its target never written', () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'root only\n', { mode: 0o600 });
    symlinkSync(secret, join(dir, `pending.json.tmp-${process.pid}`));
    writeFileDurably(join(dir, 'pending.json'), '{"ok":true}\n');
    expect(readFileSync(secret, 'utf8')).toBe('root only\n');
    expect(readFileSync(join(dir, 'pending.json'), 'utf8')).toBe('{"ok":true}\n');
  });

  it('a planted plan.json (another owner) is refused; a corrupt one of an unfinished run is quarantined, not resumed', () => {
    const first = new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2');
    first.begin(plan);
    const planFile = join(first.dir, 'plan.json');
    chownSync(planFile, NOBODY, NOBODY);
    expect(() => new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2')).toThrow(expect.objectContaining({ code: 'UNSAFE_STATE', message: expect.stringContaining('plan.json is owned by uid 65534') }));
    chownSync(planFile, 0, 0);
    writeFileSync(planFile, '{"version":1,"plan":"stop everything"}');
    expect(() => new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2')).toThrow(expect.objectContaining({ code: 'UNSAFE_STATE', message: expect.stringMatching(/plan\.json of an unfinished run is not a plan restartd wrote .*not resumed/) }));
    expect(readdirSync(join(dir, 'switches')).some((name) => name.includes('.quarantined-'))).toBe(true);
    const fresh = new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2');
    expect(fresh.resuming).toBe(false);
  });
});
