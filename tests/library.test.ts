import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createRestartd, type StaleReport } from '../src/index.js';

describe('library surface', () => {
  it('createRestartd().status() emits typed events for each step and returns the report', async () => {
    const restartd = createRestartd();
    const seen: string[] = [];
    let detected: StaleReport | undefined;
    restartd.on('scanned', (summary) => seen.push(`scanned:${summary.processes > 0}`));
    restartd.on('detected', (report) => {
      seen.push('detected');
      detected = report;
    });
    const report = await restartd.status();
    expect(seen).toEqual(['scanned:true', 'detected']);
    expect(detected).toBe(report);
    expect(report.version).toBe(1);
  });

  it('the built package resolves through its exports map', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', "const m = await import('restartd'); console.log(typeof m.createRestartd, typeof m.diffGenerations, typeof m.scanProcesses)"], {
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('function function function');
  });
});
