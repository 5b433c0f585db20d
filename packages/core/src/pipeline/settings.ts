/**
 * The video/job settings vocabulary: one set of names for what a user chooses on every surface (the
 * CLI's flags, the service's job options, the elements' attributes), their validation, each surface's
 * defaults and the one translation into {@link StylizerOptions}. A new setting is added here once.
 */
import { MODEL_IDS, isModelId, type ModelId } from '../weights/architectures.js';
import {
  DEFAULT_OPTIONS,
  OptionsError,
  resolveOptions,
  SUBJECTS,
  type NetworkPrecision,
  type StylizerOptions,
  type Subject,
  type TransformMethod,
} from './options.js';
import { PRESETS, isPreset, liveProcessingSizePx, type Preset } from './presets.js';

/** What a user sets, by its user-facing name (camelCase; the CLI's flags and attributes are kebab-case). */
export interface VideoSettings {
  /** Quality/speed preset; null: none (the engine's still-image defaults, the fields of `best`). */
  readonly preset: Preset | null;
  readonly model: ModelId;
  /** Feature transform; null: the preset's. */
  readonly method: TransformMethod | null;
  /** Levels, coarse to fine; null: the preset's (or the model's full cascade). */
  readonly levels: readonly number[] | null;
  /** Style strength in [0, 1]. */
  readonly alpha: number;
  readonly preserveColor: boolean;
  /** Temporal smoothing in video mode. */
  readonly temporal: boolean;
  /** Temporal smoothing strength in [0, 1] (used when `temporal`). */
  readonly strength: number;
  /** Internal processing size, longer side px; 0: the preset's live size on live surfaces, else the input's. */
  readonly processingSize: number;
  /** Style images scaled down to this longer side, px (0 = native). */
  readonly styleSize: number;
  /** Cap on the long side the optical flow runs at, px (0 = none: the output size); null: the preset's. */
  readonly flowSize: number | null;
  /** Encoder/decoder precision (float16 acts on WebGPU only). */
  readonly precision: NetworkPrecision;
  /** What is stylised: the whole frame, the background only (people kept), or the people only. */
  readonly subject: Subject;
}

/** Every setting's name, in documentation order. */
export const VIDEO_SETTING_KEYS = [
  'preset',
  'model',
  'method',
  'levels',
  'alpha',
  'preserveColor',
  'temporal',
  'strength',
  'processingSize',
  'styleSize',
  'flowSize',
  'precision',
  'subject',
] as const satisfies ReadonlyArray<keyof VideoSettings>;

/** Where settings come from; each has its defaults ({@link SURFACE_DEFAULTS}). */
export type Surface = 'library' | 'cli-stylize' | 'cli-video' | 'service' | 'camera' | 'video-element';

/** The engine's own defaults, as settings: what `Stylizer.create()` does with no options. */
const LIBRARY: VideoSettings = {
  preset: null,
  model: DEFAULT_OPTIONS.model,
  method: null,
  levels: null,
  alpha: DEFAULT_OPTIONS.alpha,
  preserveColor: DEFAULT_OPTIONS.preserveColor,
  temporal: true,
  strength: DEFAULT_OPTIONS.temporalStrength,
  processingSize: 0,
  styleSize: DEFAULT_OPTIONS.styleMaxSizePx,
  flowSize: null,
  precision: DEFAULT_OPTIONS.precision,
  subject: DEFAULT_OPTIONS.subject,
};

/**
 * Each surface's defaults. They differ from the library's only where the README's settings table says
 * why: still images and offline clips default to `best` (quality over speed; the published method); the
 * live camera to `realtime` (it must keep up with the camera); the video element to `balanced` (it
 * stylises while the clip plays); the elements scale styles to 512 px (statistics computed in the
 * browser, once per style change).
 */
export const SURFACE_DEFAULTS: Readonly<Record<Surface, VideoSettings>> = Object.freeze({
  library: LIBRARY,
  'cli-stylize': { ...LIBRARY, preset: 'best' },
  'cli-video': { ...LIBRARY, preset: 'best' },
  service: { ...LIBRARY, preset: 'best' },
  camera: { ...LIBRARY, preset: 'realtime', styleSize: 512 },
  'video-element': { ...LIBRARY, preset: 'balanced', styleSize: 512 },
});

/** A setting out of range or of the wrong type; the message names the setting and the value given. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

type Check = { readonly ok: (v: unknown) => boolean; readonly what: string };
const sidePx = (max: number): Check => ({
  ok: (v) => typeof v === 'number' && Number.isInteger(v) && (v === 0 || (v >= 32 && v <= max)),
  what: `0 or an integer in [32, ${max}]`,
});
const nullable = (c: Check): Check => ({ ok: (v) => v === null || c.ok(v), what: `null or ${c.what}` });
const unit: Check = { ok: (v) => typeof v === 'number' && v >= 0 && v <= 1, what: 'a number in [0, 1]' };
const bool: Check = { ok: (v) => typeof v === 'boolean', what: 'true or false' };
const oneOf = (values: readonly string[], nullable = false): Check => ({
  ok: (v) => (nullable && v === null) || (typeof v === 'string' && values.includes(v)),
  what: values.map((s) => `"${s}"`).join(' | ') + (nullable ? ' | null' : ''),
});

/** The range of each setting: one source for the CLI's parsers, the service's options and the elements. */
export const VIDEO_SETTING_CHECKS: Readonly<Record<keyof VideoSettings, Check>> = Object.freeze({
  preset: oneOf(PRESETS, true),
  model: oneOf(MODEL_IDS),
  method: oneOf(['wct', 'adain'], true),
  levels: {
    ok: (v) => v === null || (Array.isArray(v) && v.length > 0 && v.every((l) => Number.isInteger(l) && l >= 1 && l <= 5)),
    what: 'null or a list of levels in 1..5',
  },
  alpha: unit,
  preserveColor: bool,
  temporal: bool,
  strength: unit,
  processingSize: sidePx(8192),
  styleSize: sidePx(8192),
  flowSize: nullable(sidePx(4096)),
  precision: oneOf(['float32', 'float16']),
  subject: oneOf(SUBJECTS),
});

/**
 * `given` over the surface's defaults, validated: unknown names and values out of range throw a
 * {@link SettingsError} naming the setting (`label` prefixes it, e.g. "options." for a job).
 */
export function resolveVideoSettings(surface: Surface, given: Readonly<Record<string, unknown>> = {}, label = ''): VideoSettings {
  const unknown = Object.keys(given).filter((k) => !(VIDEO_SETTING_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new SettingsError(
      `unknown setting ${unknown.map((k) => JSON.stringify(`${label}${k}`)).join(', ')} (known: ${VIDEO_SETTING_KEYS.join(', ')})`,
    );
  const out: Record<string, unknown> = { ...SURFACE_DEFAULTS[surface] };
  for (const key of VIDEO_SETTING_KEYS) {
    if (!(key in given) || given[key] === undefined) continue;
    const v = given[key];
    if (!VIDEO_SETTING_CHECKS[key].ok(v))
      throw new SettingsError(`${label}${key} must be ${VIDEO_SETTING_CHECKS[key].what} (got ${JSON.stringify(v)})`);
    out[key] = v;
  }
  const s = out as unknown as VideoSettings;
  if (!isModelId(s.model) || (s.preset !== null && !isPreset(s.preset))) throw new SettingsError('unreachable: settings checks disagree');
  // What only the engine can check (levels the model has, listed once): refused here, not at run time.
  try {
    resolveOptions(stylizerOptionsFor(s));
  } catch (e) {
    if (e instanceof OptionsError) throw new SettingsError(`${label}${e.message}`);
    throw e;
  }
  return s;
}

/** The processing size (longer side, px) a live surface scales frames to: the explicit size, else the preset's. */
export function processingSizeFor(settings: VideoSettings): number {
  return settings.processingSize > 0 ? settings.processingSize : liveProcessingSizePx(settings.preset ?? 'best');
}

/**
 * The one translation of settings into engine options. The preset is passed as the preset, and only
 * the settings the user chose (method, levels) as overrides of it, so the engine keeps them apart.
 */
export function stylizerOptionsFor(settings: VideoSettings): Partial<StylizerOptions> {
  return {
    model: settings.model,
    preset: settings.preset,
    ...(settings.method !== null ? { method: settings.method } : {}),
    ...(settings.levels !== null ? { levels: [...settings.levels] } : {}),
    alpha: settings.alpha,
    preserveColor: settings.preserveColor,
    temporalStrength: settings.temporal ? settings.strength : 0,
    styleMaxSizePx: settings.styleSize,
    ...(settings.flowSize !== null ? { flowMaxSidePx: settings.flowSize } : {}),
    precision: settings.precision,
    subject: settings.subject,
  };
}
