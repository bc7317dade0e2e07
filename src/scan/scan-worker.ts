import { parentPort, workerData } from 'node:worker_threads';
import { claimPids } from './pid-chunks.js';
import { ProcReader } from './proc-reader.js';
import { scanPids } from './scan-processes.js';

/** The second core's share of a parallel scan (see parallel-scan.ts). */
interface ScanWorkerData {
  procRoot: string;
  pids: number[];
  counter: SharedArrayBuffer;
  skipPid: number;
}

const data = workerData as ScanWorkerData;
const part = scanPids(new ProcReader(data.procRoot), claimPids(data.pids, new Int32Array(data.counter)), data.skipPid);
parentPort?.postMessage(part);
