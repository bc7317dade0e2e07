import { describe, expect, it } from 'vitest';
import { globProblem, matchesGlob } from '../src/plan/index.js';

describe('unit-name globs', () => {
  it.each([
    ['nginx', 'nginx.service', true],
    ['nginx', 'nginx.socket', false],
    ['nginx', 'nginx-extra.service', false],
    ['nginx.socket', 'nginx.socket', true],
    ['getty@*', 'getty@tty1.service', true],
    ['getty@*', 'serial-getty@ttyS0.service', false],
    ['*', 'anything.service', true],
    ['*', 'anything.socket', true],
    ['dock*', 'docker.socket', true],
    ['dock*.service', 'docker.socket', false],
    ['[ab]', 'a.service', true],
    ['php?.?-fpm', 'php8.2-fpm.service', true],
    ['tty[0-9]', 'tty7.service', true],
    ['tty[!0-9]', 'tty7.service', false],
    ['tty[^0-9]', 'ttyS.service', true],
    ['[]x]y', ']y.service', true],
    ['a\\*b', 'a*b.service', true],
    ['a\\*b', 'axb.service', false],
    ['user@+([0-9])', 'user@1.service', false],
    ['user@+([0-9])', 'user@+(1).service', true],
    ['foo(bar)', 'foo(bar).service', true],
  ])('%s ~ %s: %s', (pattern, name, expected) => {
    expect(matchesGlob(pattern, name)).toBe(expected);
  });

  it.each([
    ['', 'expected a unit name or glob, got an empty string'],
    ['tty[0-9', 'glob "tty[0-9" has an unterminated ['],
    ['tty[z-a]', 'glob "tty[z-a]" has a backwards range z-a'],
    ['trailing\\', 'glob "trailing\\" ends with a lone backslash'],
  ])('%j is rejected', (pattern, problem) => {
    expect(globProblem(pattern)).toBe(problem);
  });

  it('valid globs have no problem', () => {
    expect(globProblem('getty@*')).toBeUndefined();
  });
});
