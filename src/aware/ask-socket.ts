import { createConnection } from 'node:net';
import { describeIssues } from '../config/describe-issues.js';
import { AnswerSchema, MAX_ANSWER_BYTES, type Answer, type UpdateMessage } from '../types/registration-schema.js';

/** What came back from an app's socket. */
export type SocketReply = { kind: 'answer'; answer: Answer } | { kind: 'timeout' } | { kind: 'failed'; reason: string };

/**
 * Sends one update message (a JSON line) to a Unix socket and reads one JSON line back, parsed by
 * AnswerSchema. A line over MAX_ANSWER_BYTES, a malformed line, a closed connection or a connect
 * error is `failed`; nothing within timeoutMs is `timeout`. Never throws.
 */
export function askSocket(path: string, message: UpdateMessage, timeoutMs: number, maxBytes = MAX_ANSWER_BYTES): Promise<SocketReply> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (reply: SocketReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    socket.on('connect', () => socket.write(`${JSON.stringify(message)}\n`));
    socket.on('data', (chunk: Buffer) => {
      const newline = chunk.indexOf(0x0a);
      const take = newline < 0 ? chunk : chunk.subarray(0, newline);
      size += take.length;
      if (size > maxBytes - 1) return finish({ kind: 'failed', reason: `answer larger than ${maxBytes} bytes` });
      chunks.push(take);
      if (newline >= 0) finish(parseAnswer(Buffer.concat(chunks).toString('utf8')));
    });
    socket.on('end', () => finish({ kind: 'failed', reason: 'the app closed the connection without an answer' }));
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'failed', reason: `cannot talk to ${path} (${error.code ?? error.message})` }));
  });
}

/** One answer line, parsed by AnswerSchema. */
export function parseAnswer(line: string): SocketReply {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { kind: 'failed', reason: 'the answer is not valid JSON' };
  }
  const parsed = AnswerSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) return { kind: 'failed', reason: `malformed answer: ${describeIssues(parsed.error.issues)}` };
  return { kind: 'answer', answer: parsed.data };
}
