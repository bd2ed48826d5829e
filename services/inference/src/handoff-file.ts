import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage } from '@fallback-ctr/runtime';
import { loadedModelFromBytes } from './champion-loader.js';
import { InferenceError, InferenceErrorCode } from './errors.js';
import type { ModelMeta } from './model-meta.js';

/**
 * The verified artifact, written once by the cluster primary to a private temp directory for its
 * workers to read. Removed on every way out of the process: by the shutdown closers, and as a last
 * resort by an `exit` listener (process.exit from anywhere, an uncaught error).
 */
export interface HandoffFile {
  write(bytes: Uint8Array): Promise<string>;
  /** Reads the file back and verifies it as a worker would; throws INFERENCE_HANDOFF_FAILED if it is gone or altered. */
  verify(meta: ModelMeta): Promise<void>;
  remove(): Promise<void>;
}

export function createHandoffFile(): HandoffFile {
  let dir: string | undefined;
  let path: string | undefined;
  const removeNow = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', removeNow);
  return {
    async write(bytes) {
      dir = await mkdtemp(join(tmpdir(), 'fallback-ctr-model-'));
      path = join(dir, 'artifact.json');
      await writeFile(path, bytes, { mode: 0o600 });
      return path;
    },
    async verify(meta) {
      const bytes = await readFile(path ?? '').catch((error: unknown) => {
        throw new InferenceError(
          InferenceErrorCode.HANDOFF_FAILED,
          `cannot read the hand-off file ${path}: ${errorMessage(error)}`,
          { cause: error },
        );
      });
      loadedModelFromBytes(meta, bytes);
    },
    async remove() {
      const target = dir;
      dir = undefined;
      process.off('exit', removeNow);
      if (target) await rm(target, { recursive: true, force: true });
    },
  };
}
