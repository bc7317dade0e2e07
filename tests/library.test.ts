import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createRestartd, DEFAULT_CONFIG, type Config, type StaleReport } from '../src/index.js';
import { resolveConfig } from '../src/run/resolve-config.js';

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

  it('a config built in code is validated like a file and gets the defaults it leaves out', async () => {
    const partial = { version: 1, units: [{ match: 'web.service', action: 'reload' }] } as unknown as Config;
    const resolved = await resolveConfig(partial);
    expect(resolved.settleSeconds).toBe(DEFAULT_CONFIG.settleSeconds);
    expect(resolved.limits).toEqual(DEFAULT_CONFIG.limits);
    expect(resolved.units).toEqual([expect.objectContaining({ match: 'web.service', action: 'reload' })]);
    const bad = { version: 1, units: [{ match: 'web.service', action: 'bounce' }] } as unknown as Config;
    await expect(createRestartd().plan({ config: bad, busAddress: 'unix:path=/nonexistent/bus' })).rejects.toThrow(
      /^config \(given to the library\): units\[0\]\.action: .*bounce/,
    );
  });
});
