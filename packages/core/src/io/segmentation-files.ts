/** The segmentation model on disk (Node): `livestyle models` installs it next to the style models. */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelFormatError, sha256Hex } from '../weights/model-format.js';
import { SEGMENTATION_MODEL_DIR, SELFIE_SEGMENTATION, segmentationManifest } from '../weights/segmentation-model.js';
import { writeFileAtomic, writeJsonFile } from './atomic-file.js';

/**
 * Copies the published `selfie_segmentation.tflite` (from the `@mediapipe/selfie_segmentation`
 * package) into `<outDir>/selfie/` with its manifest. Refuses any other file: the project runs and
 * measured exactly that one. @returns the folder written.
 */
export async function installSegmentationModel(tfliteFile: string, outDir: string): Promise<string> {
  const bytes = new Uint8Array(await readFile(tfliteFile));
  const digest = await sha256Hex(bytes);
  if (bytes.byteLength !== SELFIE_SEGMENTATION.byteLength || digest !== SELFIE_SEGMENTATION.sha256)
    throw new ModelFormatError(
      `${tfliteFile}: not the published selfie segmentation model (sha256 ${digest}, ${bytes.byteLength} bytes; expected ${SELFIE_SEGMENTATION.sha256})`,
    );
  const dir = path.join(outDir, SEGMENTATION_MODEL_DIR);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, SELFIE_SEGMENTATION.file), bytes);
  // The manifest last: a folder with a manifest has its model.
  await writeJsonFile(path.join(dir, 'manifest.json'), segmentationManifest(bytes.byteLength, digest));
  return dir;
}
