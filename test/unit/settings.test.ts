// One settings vocabulary (core's pipeline/settings.ts): each surface's defaults, as the README's
// settings table lists them, asserted here against what each surface actually uses; the one translation
// into engine options; validation messages that name the setting.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  SURFACE_DEFAULTS,
  VIDEO_SETTING_KEYS,
  processingSizeFor,
  resolveVideoSettings,
  stylizerOptionsFor,
  type Surface,
  type VideoSettings,
} from '../../packages/core/src/pipeline/settings.js';
import { DEFAULT_OPTIONS, resolveOptions } from '../../packages/core/src/pipeline/options.js';
import { buildProgram } from '../../packages/cli/src/main.js';
import { DEFAULT_JOB_OPTIONS, parseJobOptions } from '../../packages/service/src/config.js';
import { LivestyleCamera } from '../../packages/elements/src/components/livestyle-camera.js';
import { LivestyleVideo } from '../../packages/elements/src/components/livestyle-video.js';
import { LivestyleStyleMixer } from '../../packages/elements/src/components/livestyle-style-mixer.js';
import { REPO_ROOT } from '../helpers.js';

/** The README's table, parsed: surface -> setting -> the value as written. */
function readmeTable(): Map<string, Map<string, string>> {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /<!-- settings-defaults -->([\s\S]*?)<!-- \/settings-defaults -->/.exec(readme)?.[1];
  if (!block) throw new Error('README: no <!-- settings-defaults --> table');
  const rows = block
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim().replace(/`/g, '')),
    );
  const [header, , ...body] = rows;
  const out = new Map<string, Map<string, string>>();
  header!.slice(1).forEach((surface, i) => out.set(surface, new Map(body.map((r) => [r[0]!, r[i + 1]!]))));
  return out;
}

const show = (v: string | number | boolean | null | readonly number[]): string =>
  v === null ? 'none' : Array.isArray(v) ? v.join(',') : String(v);

describe("settings: one vocabulary, each surface's defaults", () => {
  it('the README table lists every setting of every surface exactly as the code defines it', () => {
    const table = readmeTable();
    expect([...table.keys()].sort()).toEqual(Object.keys(SURFACE_DEFAULTS).sort());
    for (const [surface, defaults] of Object.entries(SURFACE_DEFAULTS) as Array<[Surface, VideoSettings]>) {
      const column = table.get(surface)!;
      expect([...column.keys()], surface).toEqual([...VIDEO_SETTING_KEYS]);
      for (const key of VIDEO_SETTING_KEYS) expect(column.get(key), `${surface}.${key}`).toBe(show(defaults[key]));
    }
  });

  it('the library surface is the engine: the translation of its defaults changes nothing', () => {
    expect(resolveOptions(stylizerOptionsFor(SURFACE_DEFAULTS.library))).toEqual(resolveOptions({}));
    expect(stylizerOptionsFor({ ...SURFACE_DEFAULTS.library, temporal: false }).temporalStrength).toBe(0);
    expect(stylizerOptionsFor({ ...SURFACE_DEFAULTS.library, strength: 0.4 }).temporalStrength).toBe(0.4);
    expect(DEFAULT_OPTIONS.temporalStrength).toBe(SURFACE_DEFAULTS.library.strength);
  });

  it("the CLI, the service and the elements start from their surface's defaults", () => {
    const program = buildProgram();
    const flags = (name: string): Record<string, unknown> => {
      // Before parsing, a command's option values are its defaults.
      return program.commands.find((c) => c.name() === name)!.opts();
    };
    for (const [command, surface] of [
      ['stylize', 'cli-stylize'],
      ['video', 'cli-video'],
    ] as const) {
      const f = flags(command);
      const d = SURFACE_DEFAULTS[surface];
      expect({ model: f.model, alpha: f.alpha, styleSize: f.styleSize, precision: f.precision, preset: f.preset ?? null }).toEqual({
        model: d.model,
        alpha: d.alpha,
        styleSize: d.styleSize,
        precision: d.precision,
        preset: d.preset,
      });
    }
    expect({ strength: flags('video').strength, flowSize: flags('video').flowSize ?? null, temporal: flags('video').temporal }).toEqual({
      strength: SURFACE_DEFAULTS['cli-video'].strength,
      flowSize: SURFACE_DEFAULTS['cli-video'].flowSize,
      temporal: SURFACE_DEFAULTS['cli-video'].temporal,
    });

    expect(Object.fromEntries(Object.entries(DEFAULT_JOB_OPTIONS).filter(([k]) => k !== 'size' && k !== 'format'))).toEqual(
      SURFACE_DEFAULTS.service,
    );
    expect(parseJobOptions('{}')).toEqual(DEFAULT_JOB_OPTIONS);

    // The elements' constructors make a work canvas: a stand-in document is enough to read their defaults.
    const g = globalThis as { document?: unknown };
    const hadDocument = 'document' in g;
    g.document ??= { createElement: () => ({ getContext: () => null, setAttribute: () => undefined }) };
    const elements = [
      [new LivestyleCamera(), 'camera'],
      [new LivestyleVideo(), 'video-element'],
    ] as const;
    const mixer = new LivestyleStyleMixer();
    if (!hadDocument) delete g.document;
    for (const [element, surface] of elements) {
      const d = SURFACE_DEFAULTS[surface];
      expect(
        {
          preset: element.preset,
          model: element.model,
          alpha: element.alpha,
          preserveColor: element.preserveColor,
          temporal: element.temporal,
          processingSize: element.processingSize,
          styleSize: element.styleSize,
        },
        surface,
      ).toEqual({
        preset: d.preset,
        model: d.model,
        alpha: d.alpha,
        preserveColor: d.preserveColor,
        temporal: d.temporal,
        processingSize: d.processingSize,
        styleSize: d.styleSize,
      });
    }
    // The mixer drives the camera in the demo: it starts from the camera's preset.
    expect(mixer.preset).toBe(SURFACE_DEFAULTS.camera.preset);
  });

  it('takes every setting on the service that the CLI takes (levels, flow size, precision included)', () => {
    const o = parseJobOptions('{"levels":[3,2],"flowSize":256,"precision":"float16","styleSize":8192}');
    expect(stylizerOptionsFor(o)).toMatchObject({ levels: [3, 2], flowMaxSidePx: 256, precision: 'float16', styleMaxSizePx: 8192 });
  });

  it('refuses unknown names and out-of-range values with one message naming the setting', () => {
    expect(() => resolveVideoSettings('cli-video', { strenght: 1 })).toThrow('unknown setting "strenght"');
    expect(() => resolveVideoSettings('service', { alpha: 2 }, 'options.')).toThrow('options.alpha must be a number in [0, 1] (got 2)');
    expect(() => resolveVideoSettings('camera', { styleSize: 16 })).toThrow('styleSize must be 0 or an integer in [32, 8192] (got 16)');
    expect(() => resolveVideoSettings('camera', { preset: 'fast' })).toThrow('preset must be "realtime" | "balanced" | "best" | null');
  });

  it('live processing sizes come from the one preset table', () => {
    expect(processingSizeFor(SURFACE_DEFAULTS.camera)).toBe(256);
    expect(processingSizeFor(SURFACE_DEFAULTS['video-element'])).toBe(384);
    expect(processingSizeFor({ ...SURFACE_DEFAULTS.camera, processingSize: 200 })).toBe(200);
  });
});

describe('presets and user choices are kept apart (no inference from values)', () => {
  it("a field the user set survives a later preset, even when it equalled the old preset's value", () => {
    const realtime = resolveOptions({ preset: 'realtime' });
    expect(realtime.levels).toEqual([4]);
    const chosen = resolveOptions({ levels: [4] }, realtime); // the preset's own value, chosen explicitly
    expect(resolveOptions({ preset: 'balanced' }, chosen).levels).toEqual([4]);
    // Not chosen: the next preset sets it.
    expect(resolveOptions({ preset: 'balanced' }, realtime).levels).toEqual([4, 3, 2, 1]);
    // Given as undefined: back to the preset's value, and no longer the user's choice.
    const restored = resolveOptions({ levels: undefined }, resolveOptions({ preset: 'balanced' }, chosen));
    expect(restored.levels).toEqual([4, 3, 2, 1]);
    expect(resolveOptions({ preset: 'realtime' }, restored).levels).toEqual([4]);
  });
});

describe("the video flow's cap is a preset field (issue 30)", () => {
  it('realtime and balanced cap it at 512 px, best keeps the output size; an explicit cap (0 too) wins on every surface', () => {
    expect(resolveOptions({ preset: 'realtime' }).flowMaxSidePx).toBe(512);
    expect(resolveOptions({ preset: 'balanced' }).flowMaxSidePx).toBe(512);
    expect(resolveOptions({ preset: 'best' }).flowMaxSidePx).toBe(0);
    expect(resolveOptions({}).flowMaxSidePx).toBe(0);
    const noCap = resolveOptions({ preset: 'realtime', flowMaxSidePx: 0 });
    expect(noCap.flowMaxSidePx).toBe(0);
    // The choice survives a model switch and another preset; undefined gives the preset's back.
    expect(resolveOptions({ model: 'vgg19' }, noCap).flowMaxSidePx).toBe(0);
    expect(resolveOptions({ preset: 'balanced' }, noCap).flowMaxSidePx).toBe(0);
    expect(resolveOptions({ flowMaxSidePx: undefined }, noCap).flowMaxSidePx).toBe(512);
    // Settings: null (every surface's default) is the preset's cap; a number is passed as is.
    expect(resolveOptions(stylizerOptionsFor(SURFACE_DEFAULTS.camera)).flowMaxSidePx).toBe(512);
    expect(resolveOptions(stylizerOptionsFor(SURFACE_DEFAULTS['cli-video'])).flowMaxSidePx).toBe(0);
    expect(resolveOptions(stylizerOptionsFor({ ...SURFACE_DEFAULTS.camera, flowSize: 0 })).flowMaxSidePx).toBe(0);
    expect(resolveOptions(stylizerOptionsFor({ ...SURFACE_DEFAULTS['cli-video'], preset: 'realtime', flowSize: 256 })).flowMaxSidePx).toBe(
      256,
    );
    expect(parseJobOptions('{"flowSize":null}').flowSize).toBeNull();
    expect(() => parseJobOptions('{"flowSize":16}')).toThrow('flowSize must be null or 0 or an integer in [32, 4096]');
  });
});

describe("the occlusion check's coarser forward flow is a preset field (issue 30)", () => {
  it('realtime solves it one level coarser, balanced and best not; an explicit value wins; out of range is refused', () => {
    expect(resolveOptions({ preset: 'realtime' }).flowCheckLevels).toBe(1);
    expect(resolveOptions({ preset: 'balanced' }).flowCheckLevels).toBe(0);
    expect(resolveOptions({ preset: 'best' }).flowCheckLevels).toBe(0);
    expect(resolveOptions({}).flowCheckLevels).toBe(0);
    const full = resolveOptions({ preset: 'realtime', flowCheckLevels: 0 });
    expect(full.flowCheckLevels).toBe(0);
    expect(resolveOptions({ preset: 'balanced' }, full).flowCheckLevels).toBe(0);
    expect(resolveOptions({ flowCheckLevels: undefined }, full).flowCheckLevels).toBe(1);
    expect(resolveOptions(stylizerOptionsFor(SURFACE_DEFAULTS.camera)).flowCheckLevels).toBe(1);
    for (const bad of [-1, 4, 0.5])
      expect(() => resolveOptions({ flowCheckLevels: bad })).toThrow(/^flowCheckLevels must be an integer in \[0, 3\]/);
  });
});

describe('settings the engine alone can check', () => {
  it('are refused with the settings, not at run time: levels the model lacks, a level listed twice', () => {
    expect(() => resolveVideoSettings('service', { model: 'vgg19', levels: [4] }, 'options.')).toThrow(
      'options.level 4 is not available in vgg19 (levels 1, 2, 3)',
    );
    expect(() => parseJobOptions('{"levels":[3,3]}')).toThrow('level 3 is listed twice');
    expect(() => parseJobOptions('{"processingSize":256}')).toThrow('unknown option "processingSize"');
  });
});

describe('style weights', () => {
  it('normalise to sum 1, also when their sum overflows (each finite)', async () => {
    const { normaliseWeights } = await import('../../packages/core/src/pipeline/options.js');
    expect(normaliseWeights([3, 1])).toEqual([0.75, 0.25]);
    expect(normaliseWeights([1e308, 1e308])).toEqual([0.5, 0.5]);
    expect(normaliseWeights([Number.MAX_VALUE, 0])).toEqual([1, 0]);
    expect(() => normaliseWeights([0, 0])).toThrow('style weights must not all be zero');
  });
});
