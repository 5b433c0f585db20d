// The public API is what the README documents (issue 19, item 5): each package entry's runtime
// exports are named in the README, internals stay out of the main entry, the optimiser and flow live
// in their subpaths, and every export carries JSDoc (what an editor shows on hover).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../helpers.js';

/** Package entry (as in package.json "exports") → its source files (browser and Node conditions). */
const ENTRIES: Record<string, string[]> = {
  '@livestyle/core': ['packages/core/src/index.ts', 'packages/core/src/node.ts'],
  '@livestyle/core/offline': ['packages/core/src/offline.ts', 'packages/core/src/offline-node.ts'],
  '@livestyle/core/temporal': ['packages/core/src/temporal.ts', 'packages/core/src/temporal-node.ts'],
  '@livestyle/elements': ['packages/elements/src/elements.ts'],
};

interface Export {
  name: string;
  value: boolean;
  documented: boolean;
}

function exportsOf(): Map<string, Export[]> {
  const files = Object.values(ENTRIES)
    .flat()
    .map((f) => path.join(REPO_ROOT, f));
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(REPO_ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  const program = ts.createProgram(files, { ...config!.options, noEmit: true });
  const checker = program.getTypeChecker();
  const out = new Map<string, Export[]>();
  for (const file of Object.values(ENTRIES).flat()) {
    const source = program.getSourceFile(path.join(REPO_ROOT, file))!;
    const moduleSymbol = checker.getSymbolAtLocation(source)!;
    out.set(
      file,
      checker.getExportsOfModule(moduleSymbol).map((s) => {
        const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
        const documented =
          target.getDocumentationComment(checker).length > 0 ||
          (target.declarations ?? []).some((d) => ts.getJSDocCommentsAndTags(d).length > 0) ||
          // Re-exported from a dependency (setWasmPaths): its docs are the dependency's.
          (target.declarations ?? []).some((d) => d.getSourceFile().fileName.includes('/node_modules/'));
        return { name: s.name, value: (target.flags & ts.SymbolFlags.Value) !== 0, documented };
      }),
    );
  }
  return out;
}

describe('public API', () => {
  const all = exportsOf();
  const names = (file: string, values = true) =>
    all
      .get(file)!
      .filter((e) => !values || e.value)
      .map((e) => e.name)
      .sort();

  it('keeps the main entry to the documented surface, the optimiser and flow in their subpaths', () => {
    const neutral = [
      'AbortError',
      'CheckpointError',
      'DEFAULT_OPTIONS',
      'InputError',
      'MODEL_IDS',
      'ModelFormatError',
      'OptionsError',
      'PRESETS',
      'SegmentationUnavailableError',
      'Stylizer',
    ];
    expect(names('packages/core/src/index.ts')).toEqual([...neutral, 'CanvasPresenter', 'setWasmPaths'].sort());
    expect(names('packages/core/src/node.ts')).toEqual(
      [
        ...neutral,
        'ConvertError',
        'FileStyleStatsCache',
        'ImageFileError',
        'MAX_IMAGE_SIDE_PX',
        'MAX_IMAGE_PIXELS',
        'WebGpuUnavailableError',
        'convertModel',
        'fileModelSource',
        'initNodeWebGpu',
        'modelsDir',
        'probeNodeWebGpu',
        'readImageFile',
        'releaseNodeWebGpu',
        'writePngFile',
      ].sort(),
    );
    expect(names('packages/core/src/offline.ts')).toEqual(names('packages/core/src/offline-node.ts'));
    expect(names('packages/core/src/offline.ts')).toContain('StyleOptimizer');
    expect(names('packages/core/src/temporal.ts')).toEqual(names('packages/core/src/temporal-node.ts'));
    expect(names('packages/core/src/temporal.ts')).toEqual(
      expect.arrayContaining(['estimateFlow', 'warpBilinear', 'consistencyMask', 'pairWarpingError']),
    );
    for (const internal of [
      'StyleOptimizer',
      'estimateFlow',
      'reflectPad1',
      'maxPool2',
      'toGrey255',
      'setDefaultEnvironment',
      'initNodeWasm',
    ])
      expect(names('packages/core/src/node.ts', false)).not.toContain(internal);
  });

  it('names every runtime export of @livestyle/core, /offline and /temporal in the README', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const files = [...ENTRIES['@livestyle/core']!, ...ENTRIES['@livestyle/core/offline']!, ...ENTRIES['@livestyle/core/temporal']!];
    const missing = [...new Set(files.flatMap((f) => names(f)))].filter((n) => !new RegExp(`\\b${n}\\b`).test(readme));
    expect(missing).toEqual([]);
  });

  it('has JSDoc on every export of every entry', () => {
    const undocumented = [...all].flatMap(([file, exports]) => exports.filter((e) => !e.documented).map((e) => `${file}: ${e.name}`));
    expect(undocumented).toEqual([]);
  });
});
