import { execFile } from 'node:child_process';
import * as z from 'zod';

/** A login account as the passwd database (NSS) has it. */
export interface UserAccount {
  uid: number;
  gid: number;
  name: string;
  home: string;
}

const PasswdLineSchema = z
  .string()
  .max(4096)
  .transform((line) => line.split(':'))
  .pipe(z.tuple([z.string().regex(/^[^\s/:]+$/), z.string(), z.string().regex(/^\d+$/), z.string().regex(/^\d+$/), z.string(), z.string(), z.string()]));

/** Looks up a uid through `getent passwd` (so LDAP and other NSS sources count); undefined when there is none. */
export function lookupAccount(uid: number): Promise<UserAccount | undefined> {
  return new Promise((resolve) => {
    execFile('getent', ['passwd', String(uid)], { timeout: 10_000, maxBuffer: 64 * 1024, env: { PATH: '/usr/bin:/bin' } }, (error, stdout) => {
      const parsed = error ? undefined : PasswdLineSchema.safeParse(stdout.split('\n')[0] ?? '');
      if (parsed === undefined || !parsed.success || Number(parsed.data[2]) !== uid) return resolve(undefined);
      const [name, , , gid, , home] = parsed.data;
      resolve({ uid, gid: Number(gid), name, home });
    });
  });
}
