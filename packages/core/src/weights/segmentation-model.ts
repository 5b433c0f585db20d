/**
 * The person-segmentation model's files: `<models>/selfie/manifest.json` naming the `.tflite` with its
 * size and SHA-256 (the same check, and the same Cache API keying, as the style models' weight
 * files), written by `livestyle models` from the `@mediapipe/selfie_segmentation` package.
 */
import { ModelFormatError, sha256Hex } from './model-format.js';
import type { ByteSource } from './model-loader.js';
import type { ModelId } from './architectures.js';

/** The folder under the models base the segmentation model lives in. */
export const SEGMENTATION_MODEL_DIR = 'selfie';
export const SEGMENTATION_MODEL_FORMAT = 'livestyle-segmentation';
/** A folder under the models base: a style model's, or the segmentation model's. */
export type ModelFolder = ModelId | typeof SEGMENTATION_MODEL_DIR;

/**
 * The published file this project runs and was measured with (`selfie_segmentation.tflite` of
 * `@mediapipe/selfie_segmentation` 0.1.1675465747, general model, 256x256 input; Apache-2.0).
 */
export const SELFIE_SEGMENTATION = {
  file: 'selfie_segmentation.tflite',
  byteLength: 249_024,
  sha256: '8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27',
} as const;

export interface SegmentationManifest {
  readonly format: typeof SEGMENTATION_MODEL_FORMAT;
  readonly version: 1;
  readonly description: string;
  readonly licence: string;
  readonly groups: { readonly model: { readonly paths: readonly [string]; readonly byteLength: number; readonly sha256: string } };
}

/** The manifest `livestyle models` writes next to the `.tflite` (groups keyed as the style models', for the Cache API). */
export function segmentationManifest(byteLength: number, sha256: string): SegmentationManifest {
  return {
    format: SEGMENTATION_MODEL_FORMAT,
    version: 1,
    description: 'MediaPipe selfie segmentation (general, 256x256), from @mediapipe/selfie_segmentation',
    licence: 'Apache-2.0 (Google LLC)',
    groups: { model: { paths: [SELFIE_SEGMENTATION.file], byteLength, sha256 } },
  };
}

/**
 * Reads and verifies the segmentation model from `source` (the `selfie/` folder). Rejects with a
 * {@link ModelFormatError} naming the file when the manifest is missing or malformed, the model's
 * bytes do not match it, or they are not {@link SELFIE_SEGMENTATION}.
 */
export async function loadSegmentationModelBytes(source: ByteSource, signal?: AbortSignal): Promise<Uint8Array> {
  const where = `${SEGMENTATION_MODEL_DIR}/manifest.json`;
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(await source('manifest.json', signal)));
  } catch (e) {
    throw new ModelFormatError(`${where}: ${e instanceof SyntaxError ? 'not JSON' : (e as Error).message}`);
  }
  const m = raw as Partial<SegmentationManifest> | null;
  const group = m?.groups?.model;
  const file = group?.paths?.[0];
  if (
    m?.format !== SEGMENTATION_MODEL_FORMAT ||
    typeof file !== 'string' ||
    typeof group?.byteLength !== 'number' ||
    typeof group.sha256 !== 'string'
  )
    throw new ModelFormatError(`${where}: not a segmentation model manifest (format "${SEGMENTATION_MODEL_FORMAT}")`);
  if (file.includes('/') || file.includes('\\'))
    throw new ModelFormatError(`${where}: model path ${JSON.stringify(file)} leaves the folder`);
  const bytes = await source(file, signal);
  if (bytes.byteLength !== group.byteLength)
    throw new ModelFormatError(`${SEGMENTATION_MODEL_DIR}/${file}: ${bytes.byteLength} bytes, the manifest says ${group.byteLength}`);
  const digest = await sha256Hex(bytes);
  if (digest !== group.sha256)
    throw new ModelFormatError(`${SEGMENTATION_MODEL_DIR}/${file}: sha256 ${digest} does not match the manifest (${group.sha256})`);
  // Only the published file this version runs and was measured with, whatever a manifest says.
  if (digest !== SELFIE_SEGMENTATION.sha256)
    throw new ModelFormatError(
      `${SEGMENTATION_MODEL_DIR}/${file}: not the selfie segmentation model this version of livestyle runs (sha256 ${digest}, expected ${SELFIE_SEGMENTATION.sha256}); run \`livestyle models\``,
    );
  return bytes;
}
