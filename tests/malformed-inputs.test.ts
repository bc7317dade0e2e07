import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRegistrationFile } from '../src/aware/read-registrations.js';
import { loadConfig } from '../src/config/load-config.js';
import { RestartdError } from '../src/errors.js';
import { loadManifest } from '../src/generation/load-manifest.js';

/** mulberry32: the same seed, the same few hundred inputs on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD: unknown[] = [null, true, -1, 0, 1e308, -0.5, 2 ** 53, '', '\u001b[2J', '\u202e', 'x'.repeat(5000), [], {}, [[[]]], { a: { b: {} } }, '/', '../..', 'NaN'];

/** A valid document with one to three random edits: a key dropped, retyped, added, or nested. */
function mutate(valid: Record<string, unknown>, next: () => number): unknown {
  const doc = structuredClone(valid) as Record<string, unknown>;
  const edits = 1 + Math.floor(next() * 3);
  for (let i = 0; i < edits; i++) {
    const keys = Object.keys(doc);
    const key = keys[Math.floor(next() * keys.length)] ?? 'version';
    const pick = WEIRD[Math.floor(next() * WEIRD.length)];
    const kind = Math.floor(next() * 4);
    if (kind === 0) delete doc[key];
    else if (kind === 1) doc[key] = pick;
    else if (kind === 2) doc[`extra${i}`] = pick;
    else doc[key] = { nested: doc[key], pick };
  }
  return doc;
}

/** Text of a mutated document, sometimes cut short or prefixed with junk bytes. */
function textOf(doc: unknown, next: () => number): string {
  const text = JSON.stringify(doc);
  const cut = next();
  if (cut < 0.15) return text.slice(0, Math.floor(next() * text.length));
  if (cut < 0.2) return `\u0000\u00ff${text}`;
  return text;
}

const CONFIG = { version: 1, units: [{ match: 'nginx', action: 'reload' }], protect: ['ssh'], concurrency: 2, limits: { compareMaxBytes: 1024 } };
const MANIFEST = { version: 1, root: '/srv/app', files: [{ path: 'bin/app', sha256: 'a'.repeat(64), size: 3 }] };
const REGISTRATION = { version: 1, name: 'app', pid: 4242, startTime: 1, notify: { kind: 'socket', path: '/run/app.sock' }, ackTimeoutMs: 1000 };

describe('a few hundred seeded malformed inputs: zero crashes, every error named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'restartd-malformed-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('configs: valid or BAD_CONFIG naming the file', async () => {
    const next = random(12);
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const path = join(dir, `config-${i}.json`);
      writeFileSync(path, textOf(mutate(CONFIG, next), next));
      try {
        await loadConfig(path);
      } catch (error) {
        expect(error).toBeInstanceOf(RestartdError);
        expect(error).toMatchObject({ code: 'BAD_CONFIG', subject: path, message: expect.stringMatching(new RegExp(`^config ${path}: \\S`)) });
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(200);
  });

  it('manifests: valid or BAD_MANIFEST naming the file', async () => {
    const next = random(34);
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const path = join(dir, `manifest-${i}.json`);
      writeFileSync(path, textOf(mutate(MANIFEST, next), next));
      try {
        await loadManifest(path);
      } catch (error) {
        expect(error).toBeInstanceOf(RestartdError);
        expect(error).toMatchObject({ code: 'BAD_MANIFEST', subject: path, message: expect.stringMatching(new RegExp(`^manifest ${path}: \\S`)) });
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(200);
  });

  it('registrations: loaded or skipped with a reason, never thrown', async () => {
    const next = random(56);
    let skipped = 0;
    for (let i = 0; i < 300; i++) {
      const path = join(dir, `reg-${i}.json`);
      writeFileSync(path, textOf(mutate(REGISTRATION, next), next));
      const read = await readRegistrationFile(path, 0);
      if ('reason' in read) {
        expect(read.reason).toMatch(/\S/);
        skipped++;
      } else expect(read.registration.version).toBe(1);
    }
    expect(skipped).toBeGreaterThan(200);
  });
});
