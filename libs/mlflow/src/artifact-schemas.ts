import { z } from 'zod';
import { Int64Schema, repeated } from './tracking-schemas.js';

export const ArtifactFileSchema = z
  .object({
    path: z.string(),
    is_dir: z.boolean().optional(),
    file_size: Int64Schema.optional(),
  })
  .transform((f) => ({ path: f.path, isDir: f.is_dir ?? false, fileSize: f.file_size }));

/** One entry of an artifact listing; `path` is relative to the artifact root that was listed. */
export interface ArtifactFile {
  path: string;
  isDir: boolean;
  fileSize: number | undefined;
}

export const ListArtifactsResponseSchema = z.object({
  files: repeated(ArtifactFileSchema),
});
