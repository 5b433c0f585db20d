/** Pure parsers for CLI values; each throws an Error whose message is shown to the user as is. */
import { InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import type { Preset } from '@livestyle/core/internal/pipeline/presets.js';
import type { NetworkPrecision, StylizerOptions, Subject, TransformMethod } from '@livestyle/core/internal/pipeline/options.js';
import type { ModelId } from '@livestyle/core/internal/weights/architectures.js';
import { resolveVideoSettings, stylizerOptionsFor, type VideoSettings } from '@livestyle/core/internal/pipeline/settings.js';
import type { CliBackend } from './backend.js';
import { ImageFileError } from '@livestyle/core/internal/io/node-image.js';
import { readStyleFile } from './io/style-file.js';
import { describeFlatColour } from '@livestyle/core/internal/io/flat.js';
import type { PixelsLike } from '@livestyle/core/internal/pipeline/input.js';

export interface StyleArg {
  readonly file: string;
  readonly weight: number;
}

/**
 * `file` or `file@weight`. A name that exists as a file is taken whole (so `a@b.png` still works);
 * otherwise the text after the last `@` must be a finite number >= 0.
 */
export function parseStyleArg(value: string, fileExists: (f: string) => boolean = existsSync): StyleArg {
  if (value === '') throw new Error('--style needs a file name');
  const at = value.lastIndexOf('@');
  if (at < 0 || fileExists(value)) return { file: value, weight: 1 };
  const file = value.slice(0, at);
  const weightText = value.slice(at + 1);
  const weight = Number(weightText);
  if (file === '' || weightText.trim() === '' || !Number.isFinite(weight) || weight < 0) {
    throw new Error(`bad style weight in "${value}": expected <file>@<number >= 0>, e.g. starry.jpg@0.7`);
  }
  return { file, weight };
}

/** "5,4,3" → [5, 4, 3]; integers 1..5, no repeats (the model checks availability). */
export function parseLevels(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const levels = parts.map(Number);
  if (parts.some((p) => !/^[1-5]$/.test(p)))
    throw new Error(`bad --levels "${value}": expected a comma-separated list of levels 1..5, e.g. 5,4,3,2,1`);
  if (new Set(levels).size !== levels.length) throw new Error(`bad --levels "${value}": a level is repeated`);
  return levels;
}

export function parseUnitInterval(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < 0 || v > 1) throw new Error(`"${value}" is not a number in [0, 1]`);
  return v;
}

export function parseNonNegativeInt(value: string, max: number): number {
  const v = Number(value);
  if (!/^\d+$/.test(value.trim()) || v > max) throw new Error(`"${value}" is not an integer in [0, ${max}]`);
  return v;
}

/** An integer in [min, max], with the limits in the message. */
export function parseIntInRange(value: string, min: number, max: number): number {
  const v = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || v < min || v > max) throw new Error(`"${value}" is not an integer in [${min}, ${max}]`);
  return v;
}

/** A finite number >= 0 (weights). */
export function parseNonNegativeNumber(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < 0) throw new Error(`"${value}" is not a finite number >= 0`);
  return v;
}

/** The stylisation flags `stylize` and `video` share; absent transform flags are left to the preset. */
export interface StylisationFlags {
  readonly model: ModelId;
  readonly preset?: Preset;
  readonly method?: TransformMethod;
  readonly levels?: number[];
  readonly alpha: number;
  readonly preserveColor: boolean;
  readonly styleSize: number;
  readonly backend: CliBackend;
  /** `--precision`: the encoder/decoder precision (float16 acts on webgpu only). */
  readonly precision?: NetworkPrecision;
  /** `--subject`: what is stylised (all, background, person). */
  readonly subject?: Subject;
  /** `video` only: temporal smoothing, its strength and the flow's size cap. */
  readonly temporal?: boolean;
  readonly strength?: number;
  readonly flowSize?: number;
  /** `--no-style-cache` sets false: styles are encoded on every run (style-cache.ts). */
  readonly styleCache?: boolean;
}

/** The flags as the settings vocabulary (core's settings.ts), over the command's surface defaults. */
export function stylisationSettings(flags: StylisationFlags, surface: 'cli-stylize' | 'cli-video'): VideoSettings {
  return resolveVideoSettings(surface, {
    model: flags.model,
    preset: flags.preset,
    method: flags.method,
    levels: flags.levels,
    alpha: flags.alpha,
    preserveColor: flags.preserveColor,
    styleSize: flags.styleSize,
    precision: flags.precision,
    temporal: flags.temporal,
    strength: flags.strength,
    flowSize: flags.flowSize,
    subject: flags.subject,
  });
}

/** Stylizer options for those flags: the one translation of settings, plus the backend. */
export function stylisationOptions(
  flags: StylisationFlags,
  surface: 'cli-stylize' | 'cli-video' = 'cli-stylize',
): Partial<StylizerOptions> {
  return { ...stylizerOptionsFor(stylisationSettings(flags, surface)), backend: flags.backend };
}

/** `--tile`: 0 (never tile) or a tile side in [64, 8192] px. */
export function parseTileSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || (n !== 0 && (n < 64 || n > 8192))) throw new Error(`--tile "${value}" is not 0 or an integer in [64, 8192]`);
  return n;
}

/** All-zero style weights leave nothing to blend: refused before any work. */
export function checkStyleWeights(styles: readonly StyleArg[], usage: (msg: string) => Error): void {
  if (styles.length > 0 && styles.every((s) => s.weight === 0))
    throw usage(`the style weights are all 0 (${styles.map((s) => `${s.file}@0`).join(', ')}): at least one must be > 0`);
}

/** `--size`, `--style-size`: 0 (keep the input's pixels) or a side in [32, 8192] px. */
export function parseSidePx(value: string): number {
  if (value.trim() === '0') return 0;
  const v = Number(value);
  if (!/^\d+$/.test(value.trim()) || v < 32 || v > 8192) throw new Error(`"${value}" is not 0 or an integer in [32, 8192]`);
  return v;
}

/** Names the file behind a library message about "style N" (the library knows only positions). */
export function withStyleFile(e: unknown, files: readonly string[]): unknown {
  if (!(e instanceof Error)) return e;
  const m = /^style (\d+)\b/.exec(e.message);
  const file = m ? files[Number(m[1]) - 1] : undefined;
  if (file !== undefined) e.message = `${file} (${e.message})`;
  return e;
}

/** "model cd16x" or "model cd16x with --decoder a.pth": what an implausible output is blamed on. */
export function modelDescription(model: ModelId, decoders: readonly string[]): string {
  return `model ${model}${decoders.length > 0 ? ` with --decoder ${decoders.join(', ')}` : ''}`;
}

export function wrap<T>(parse: (v: string) => T) {
  return (value: string): T => {
    try {
      return parse(value);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

/**
 * Reads the styles at `--style-size` (memory-bounded: node-image.ts). A style that is one flat colour
 * is refused naming it: it has nothing to transfer, and the flat output would otherwise be blamed on
 * the model.
 */
export async function readStyleImages(
  styles: ReadonlyArray<{ readonly file: string; readonly weight: number }>,
  styleSizePx: number,
): Promise<Array<{ image: PixelsLike; weight: number }>> {
  const read = [];
  for (const s of styles) {
    const image = await readStyleFile(s.file, styleSizePx);
    const flat = describeFlatColour(image);
    if (flat) throw new ImageFileError(`${s.file}: the style is ${flat}: it has no texture to transfer; choose an image with some`);
    read.push({ image, weight: s.weight });
  }
  return read;
}
