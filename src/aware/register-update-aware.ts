import { chmodSync, unlinkSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseStat } from '../scan/parse.js';
import { SYSTEM_AWARE_DIR } from './aware-dirs.js';
import { MAX_UPDATE_BYTES, RegistrationSchema, UpdateMessageSchema, type AnswerKind, type AwareSignal, type RegistrationInput } from '../types/registration-schema.js';

/** What an update-aware app is told: the switch and the files it holds that changed. */
export interface UpdateInfo {
  oldGeneration: string | null;
  newGeneration: string | null;
  files: string[];
}

export interface UpdateAwareOptions {
  /** What the app calls itself (1-64 of A-Z a-z 0-9 . _ @ -). */
  name: string;
  /** Picks up the new files; its answer goes back to restartd (`handled` when it returns nothing; `restart-me` when it throws). */
  onUpdate: (update: UpdateInfo) => AnswerKind | void | Promise<AnswerKind | void>;
  /** Registration dir (default /run/restartd/aware.d for root, else $XDG_RUNTIME_DIR/restartd/aware.d). */
  dir?: string;
  ackTimeoutMs?: number;
  fallback?: 'restart' | 'none';
  /** Be told only when a stale file is at or under one of these paths. */
  paths?: string[];
}

/** A live registration. */
export interface UpdateAwareHandle {
  /** The registration file and the socket restartd talks to. */
  file: string;
  socketPath: string;
  /** Unregisters: stops serving, removes the file and the socket. */
  close(): Promise<void>;
}

/** The dir an app running as this user registers in. */
export function defaultClientDir(): string {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return SYSTEM_AWARE_DIR;
  return join(process.env['XDG_RUNTIME_DIR'] ?? `/run/user/${uid}`, 'restartd', 'aware.d');
}

/**
 * Registers this process as update-aware: serves a Unix socket (mode 0600) in the registration dir,
 * writes the registration atomically (temp + rename, mode 0644, dir 0755), calls `onUpdate` for each
 * update restartd sends and answers with what it returns. Unregisters on exit, SIGTERM and SIGINT
 * (a signal nobody else handles still ends the process). The socket does not keep the process alive.
 */
export async function registerUpdateAware(options: UpdateAwareOptions): Promise<UpdateAwareHandle> {
  const dir = options.dir ?? defaultClientDir();
  const base = `${options.name}.${process.pid}`;
  const file = join(dir, `${base}.json`);
  const socketPath = join(dir, `${base}.sock`);
  const registration: RegistrationInput = {
    version: 1,
    name: options.name,
    pid: process.pid,
    startTime: await ownStartTime(),
    notify: { kind: 'socket', path: socketPath },
    ...(options.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: options.ackTimeoutMs }),
    ...(options.fallback === undefined ? {} : { fallback: options.fallback }),
    ...(options.paths === undefined ? {} : { paths: options.paths }),
  };
  RegistrationSchema.parse(registration);
  await prepareDir(dir);
  await unlink(socketPath).catch(() => undefined);
  const server = createServer((socket) => serve(socket, options.onUpdate));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  server.unref();
  await chmod(socketPath, 0o600);
  await writeAtomically(file, `${JSON.stringify(registration)}\n`);
  return armCleanup(file, socketPath, server);
}

/**
 * Writes a signal-only registration for this process (no socket: restartd sends `signal` and
 * expects no answer). For apps that already reload on SIGHUP.
 */
export async function registerSignal(options: { name: string; signal: AwareSignal; dir?: string; paths?: string[] }): Promise<UpdateAwareHandle> {
  const dir = options.dir ?? defaultClientDir();
  const file = join(dir, `${options.name}.${process.pid}.json`);
  const registration: RegistrationInput = { version: 1, name: options.name, pid: process.pid, startTime: await ownStartTime(), notify: { kind: 'signal', signal: options.signal }, ...(options.paths === undefined ? {} : { paths: options.paths }) };
  RegistrationSchema.parse(registration);
  await prepareDir(dir);
  await writeAtomically(file, `${JSON.stringify(registration)}\n`);
  return armCleanup(file, '', undefined);
}

function serve(socket: Socket, onUpdate: UpdateAwareOptions['onUpdate']): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    if (buffered.length > MAX_UPDATE_BYTES) return socket.destroy();
    const newline = buffered.indexOf('\n');
    if (newline < 0) return;
    socket.removeAllListeners('data');
    const answer = (kind: AnswerKind, message?: string): void => {
      socket.end(`${JSON.stringify({ type: 'ack', answer: kind, ...(message === undefined ? {} : { message: message.slice(0, 512) }) })}\n`);
    };
    let update: UpdateInfo;
    try {
      const parsed = UpdateMessageSchema.parse(JSON.parse(buffered.slice(0, newline)));
      update = { oldGeneration: parsed.oldGeneration, newGeneration: parsed.newGeneration, files: parsed.files };
    } catch {
      return answer('ignored', 'not an update message');
    }
    Promise.resolve()
      .then(() => onUpdate(update))
      .then(
        (kind) => answer(kind ?? 'handled'),
        (error: unknown) => answer('restart-me', error instanceof Error ? error.message : String(error)),
      );
  });
}

function armCleanup(file: string, socketPath: string, server: Server | undefined): UpdateAwareHandle {
  const removeFiles = (): void => {
    for (const path of [file, socketPath]) {
      if (path === '') continue;
      try {
        unlinkSync(path);
      } catch {
        // Already gone.
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    removeFiles();
    // Ours was the only listener: do what the signal would have done without us.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.once('exit', removeFiles);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return {
    file,
    socketPath,
    async close() {
      process.off('exit', removeFiles);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
      removeFiles();
    },
  };
}

async function ownStartTime(): Promise<number> {
  const stat = parseStat(await readFile('/proc/self/stat', 'utf8'));
  if (stat === undefined) throw new Error('cannot read /proc/self/stat');
  return stat.startTime;
}

async function prepareDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const info = await stat(dir);
  // restartd reads no dir writable by group or others: fix ours if we own it.
  if ((info.mode & 0o022) !== 0 && info.uid === process.getuid?.()) chmodSync(dir, info.mode & 0o755);
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const temp = join(file, '..', `.${file.split('/').pop() ?? 'registration'}.tmp-${process.pid}`);
  const handle = await open(temp, 'w', 0o644);
  try {
    await handle.writeFile(content);
    await handle.chmod(0o644);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}
