// The elements' `subject` fallback (issue 32, bad input): a segmentation model that cannot load makes
// the element stylise the whole picture with one notice, keeps every other option, does not fetch
// the model again on each unrelated change, and tries again when the subject or the model base URL
// changes. A stand-in stylizer refuses a subject as Stylizer.setOptions does when the model is missing.
// Like the elements (stylized-view.ts), every configure call carries the whole option set.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StylizerOptions } from '../../packages/core/src/pipeline/options.js';
import type { Stylizer } from '../../packages/core/src/pipeline/stylizer.js';
import { SegmentationUnavailableError } from '../../packages/core/src/pipeline/subject.js';
import type { StylizerController } from '../../packages/elements/src/components/stylizer-controller.js';
import { readyController } from '../support/controller.js';

/** A stylizer whose segmentation model is missing while `broken.value` is true; it records every setOptions call. */
function fakeStylizer(calls: Array<Partial<StylizerOptions>>, broken: { value: boolean }): Stylizer {
  const fake = {
    backend: 'wasm',
    isDisposed: false,
    setStyles: () => Promise.resolve(),
    dispose: () => undefined,
    setOptions(options: Partial<StylizerOptions>): Promise<void> {
      calls.push(options);
      if (broken.value && options.subject !== undefined && options.subject !== 'all')
        return Promise.reject(new SegmentationUnavailableError('The person segmentation model could not be loaded (HTTP 404)'));
      return Promise.resolve();
    },
  };
  return fake as unknown as Stylizer;
}

function controllerFor(calls: Array<Partial<StylizerOptions>>, broken: { value: boolean }): Promise<StylizerController> {
  return readyController(fakeStylizer(calls, broken));
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

const BASE = './models/';

describe("the elements' subject fallback", () => {
  it('stylises the whole picture with one notice, keeps the other options, and asks again only when the subject or model URL changes', async () => {
    const calls: Array<Partial<StylizerOptions>> = [];
    const broken = { value: true };
    const controller = await controllerFor(calls, broken);
    calls.length = 0;

    await controller.configure({ subject: 'background', alpha: 0.6, modelBaseUrl: BASE });
    // Refused, then applied without the subject: alpha still reaches the stylizer.
    expect(calls).toEqual([
      { subject: 'background', alpha: 0.6, modelBaseUrl: BASE },
      { subject: 'all', alpha: 0.6, modelBaseUrl: BASE },
    ]);
    expect(controller.subjectNotice).toBe(
      'The person segmentation model could not be loaded (HTTP 404). The whole picture is stylised instead.',
    );

    // An unrelated change does not ask for the model again, and the notice stays.
    calls.length = 0;
    await controller.configure({ subject: 'background', alpha: 0.8, modelBaseUrl: BASE });
    expect(calls).toEqual([{ subject: 'all', alpha: 0.8, modelBaseUrl: BASE }]);
    expect(controller.subjectNotice).toMatch(/whole picture is stylised instead/);

    // Another subject is asked for (and fails the same way).
    calls.length = 0;
    await controller.configure({ subject: 'person', alpha: 0.8, modelBaseUrl: BASE });
    expect(calls.map((c) => c.subject)).toEqual(['person', 'all']);

    // Back to the whole picture: no notice. With the model back (the user reconnected), asking again works.
    await controller.configure({ subject: 'all', alpha: 0.8, modelBaseUrl: BASE });
    expect(controller.subjectNotice).toBe('');
    broken.value = false;
    calls.length = 0;
    await controller.configure({ subject: 'background', alpha: 0.8, modelBaseUrl: BASE });
    expect(calls).toEqual([{ subject: 'background', alpha: 0.8, modelBaseUrl: BASE }]);
    expect(controller.subjectNotice).toBe('');
  });

  it('a new model base URL asks for the failed subject again', async () => {
    const calls: Array<Partial<StylizerOptions>> = [];
    const broken = { value: true };
    const controller = await controllerFor(calls, broken);
    await controller.configure({ subject: 'person', modelBaseUrl: BASE });
    expect(controller.subjectNotice).not.toBe('');
    broken.value = false;
    calls.length = 0;
    const other = 'https://cdn.example/models/';
    await controller.configure({ subject: 'person', modelBaseUrl: other });
    expect(calls).toEqual([{ subject: 'person', modelBaseUrl: other }]);
    expect(controller.subjectNotice).toBe('');
  });
});
