// An elements' StylizerController over a stand-in stylizer, ready to draw or configure: for unit tests
// of the controller's own logic (no browser, no model). The caller restores mocks and globals.
import { expect, vi } from 'vitest';
import { Stylizer } from '../../packages/core/src/pipeline/stylizer.js';
import { StylizerController } from '../../packages/elements/src/components/stylizer-controller.js';

/** A controller whose `Stylizer.create` returns `stylizer`, with one style set; errors it reports throw. */
export async function readyController(stylizer: Stylizer): Promise<StylizerController> {
  vi.spyOn(Stylizer, 'create').mockResolvedValue(stylizer);
  vi.stubGlobal('createImageBitmap', () => Promise.resolve({ close: () => undefined }));
  const controller = new StylizerController({ addController: () => undefined, requestUpdate: () => undefined } as never, (m) => {
    throw new Error(m);
  });
  await controller.setStyles([{ src: new Blob([]) }]);
  expect(controller.ready).toBe(true);
  return controller;
}
