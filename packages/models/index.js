// @ts-check
/** The models this package holds (each in its own folder: `<id>/manifest.json` + `.bin` files). */
export const MODEL_IDS = /** @type {const} */ (['cd16x', 'vgg19']);

/** This package's folder as a URL (a file: URL in Node; in a bundle, wherever the bundler put this file). */
export const modelsBaseUrl = new URL('./', import.meta.url).href;
