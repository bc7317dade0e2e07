#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RestartdError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import { processIO, type CliIO } from './io.js';
import { runCli } from './run-cli.js';

/** Only the entry touches process.exitCode. */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  try {
    return await runCli(argv, io);
  } catch (error) {
    if (error instanceof RestartdError) {
      io.err(`restartd: ${error.message}\n`);
      return EXIT.ERROR;
    }
    io.err(`restartd: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.ERROR;
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  process.exitCode = await main(process.argv.slice(2));
}
