/**
 * The page at `/` of `livestyle-service serve`: the style mixer element, a clip picker, the job's progress
 * (server-sent events) and its download. Its script (page-client.ts with the element, bundled by
 * `npm run build` into vendor/service-page.js) is served at `/page.js`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The @livestyle/service package root, from this file's location in `src/` or `dist/`. */
export const SERVICE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const SERVICE_PAGE_SCRIPT = path.join(SERVICE_ROOT, 'vendor', 'service-page.js');

let script: Promise<Buffer> | null = null;

export function servicePageScript(read: (file: string) => Promise<Buffer>): Promise<Buffer> {
  script ??= read(SERVICE_PAGE_SCRIPT).catch((e: unknown) => {
    script = null;
    throw e;
  });
  return script;
}

export function servicePageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>livestyle: stylise a clip</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; max-width: 860px; margin: 2rem auto; padding: 0 1rem; color: #222; }
  fieldset { border: 1px solid #ccc; border-radius: 6px; margin: 1rem 0; }
  label { margin-right: 1rem; }
  progress { width: 100%; height: 1.2rem; }
  #error { color: #b00020; }
  button { font: inherit; padding: .35rem .9rem; }
</style>
</head>
<body>
<h1>Stylise a clip</h1>
<livestyle-style-mixer id="mixer" catalog-url="/styles" blend></livestyle-style-mixer>
<form id="form">
  <fieldset>
    <legend>Clip</legend>
    <input id="clip" name="clip" type="file" accept="video/*" required>
    <label>Size <select id="size"><option value="256">256 px</option><option value="512" selected>512 px</option><option value="720">720 px</option><option value="0">as the clip</option></select></label>
    <label>Format <select id="format"><option value="webm" selected>WebM</option><option value="mp4">MP4</option></select></label>
  </fieldset>
  <button id="submit" type="submit">Stylise</button>
  <button id="cancel" type="button" hidden>Cancel</button>
</form>
<p id="error" role="alert"></p>
<section id="job" hidden>
  <progress id="progress" max="1" value="0"></progress>
  <p id="status" aria-live="polite"></p>
  <p><a id="download" hidden>Download the stylised clip</a></p>
</section>
<script type="module" src="/page.js"></script>
</body>
</html>
`;
}
