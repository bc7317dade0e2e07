import * as z from 'zod';

// Relative, no leading '/', no empty, '.' or '..' segments: a manifest cannot point outside its root.
const RELATIVE_PATH = /^(?!\/)(?!.*\/\/)(?!(?:.*\/)?\.\.?(?:\/|$))[^\0]+$/;

/** One file of a manifest generation. */
export const ManifestFileSchema = z
  .object({
    path: z
      .string()
      .regex(RELATIVE_PATH, 'expected a relative path without empty, "." or ".." segments')
      .describe('Path relative to root; files pair across generations by this path.'),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex characters')
      .describe('Hex sha256 of the file content.'),
    size: z.number().int().nonnegative().optional().describe('Size in bytes; lets a diff skip hashing files whose size changed.'),
    mode: z
      .string()
      .regex(/^[0-7]{3,4}$/, 'expected an octal mode like "0755"')
      .optional()
      .describe('Octal permission bits; informational, not compared.'),
  })
  .meta({ title: 'restartd manifest file' });

/** A generation written down by a package manager: files under a root, with their hashes. */
export const ManifestSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1),
    root: z.string().regex(/^\//, 'expected an absolute path').describe('Absolute directory the files live under on this host.'),
    files: z.array(ManifestFileSchema),
  })
  .superRefine((manifest, ctx) => {
    const seen = new Map<string, number>();
    manifest.files.forEach((file, i) => {
      const first = seen.get(file.path);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['files', i, 'path'], message: `duplicate of files[${first}].path` });
      else seen.set(file.path, i);
    });
  })
  .meta({
    $id: 'https://restartd.dev/schemas/manifest.schema.json',
    title: 'restartd manifest',
    description: 'A generation as a list of files with content hashes (restartd diff --source manifest).',
  });

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestFile = z.infer<typeof ManifestFileSchema>;

/** The JSON Schema published as schemas/manifest.schema.json (what a manifest writer may produce). */
export function manifestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ManifestSchema, { io: 'input' }) as Record<string, unknown>;
}
