import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';

/** AT_CLKTCK in the ELF auxiliary vector: the kernel's USER_HZ, what `getconf CLK_TCK` prints. */
const AT_CLKTCK = 17;
const AT_NULL = 0;
const USER_HZ_DEFAULT = 100;

/** The btime line of /proc/stat: the boot time, in seconds since the epoch. */
export function parseBootTime(procStat: string): number | undefined {
  const m = /^btime\s+(\d+)$/m.exec(procStat);
  return m ? Number(m[1]) : undefined;
}

/** AT_CLKTCK from an auxv image of native words (8 bytes on 64-bit, 4 on 32-bit), little or big endian as the host. */
export function parseClockTicks(auxv: Buffer, wordSize: 4 | 8, littleEndian = true): number | undefined {
  const word = (offset: number): number => {
    if (wordSize === 8) return Number(littleEndian ? auxv.readBigUInt64LE(offset) : auxv.readBigUInt64BE(offset));
    return littleEndian ? auxv.readUInt32LE(offset) : auxv.readUInt32BE(offset);
  };
  for (let offset = 0; offset + 2 * wordSize <= auxv.length; offset += 2 * wordSize) {
    const type = word(offset);
    if (type === AT_NULL) break;
    if (type === AT_CLKTCK) return word(offset + wordSize) || undefined;
  }
  return undefined;
}

/** Converts /proc/PID/stat start times (clock ticks since boot) to ms since the epoch. */
export interface ProcessClock {
  startedAtMs(startTicks: number): number;
}

/**
 * Reads the boot time (procRoot/stat) and the tick rate once per scan. The tick rate comes from our
 * own auxiliary vector (/proc/self/auxv), not from spawning getconf; 100 when it can't be read.
 * Undefined when the boot time is unknown (a fixture procfs without a stat file).
 */
export function readProcessClock(procRoot = '/proc'): ProcessClock | undefined {
  let bootSec: number | undefined;
  try {
    bootSec = parseBootTime(readFileSync(`${procRoot}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
  if (bootSec === undefined) return undefined;
  let hz: number | undefined;
  try {
    const wordSize = /64|s390x/.test(process.arch) ? 8 : 4;
    hz = parseClockTicks(readFileSync('/proc/self/auxv'), wordSize, endianness() === 'LE');
  } catch {
    hz = undefined;
  }
  const ticksPerSec = hz ?? USER_HZ_DEFAULT;
  const boot = bootSec * 1000;
  return { startedAtMs: (startTicks) => boot + (startTicks * 1000) / ticksPerSec };
}
