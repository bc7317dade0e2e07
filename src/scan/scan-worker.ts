import { parentPort, workerData } from 'node:worker_threads';
import type { ScanWorkerData } from './parallel-scan.js';
import { claimPids } from './pid-chunks.js';
import { ProcReader } from './proc-reader.js';
import { scanPids } from './scan-processes.js';
import { scanStalePids } from './stale-part.js';

/** The second core's share of a parallel scan (see parallel-scan.ts). */
const data = workerData as ScanWorkerData;
const reader = new ProcReader(data.procRoot, data.maxHeldFiles, data.native);
const claimed = claimPids(data.pids, new Int32Array(data.counter));
const part = data.match ? scanStalePids(reader, claimed, data.skipPid, data.match) : scanPids(reader, claimed, data.skipPid);
parentPort?.postMessage(part);
