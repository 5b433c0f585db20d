/**
 * The chromeless output page (`camera.html?style=&preset=&subject=`): the stylised camera filling
 * the window, for an OBS Browser Source (and from there a virtual camera). No controls: the arrow
 * keys (or n / p) cycle the built-in styles. Problems with the query are shown as one line each.
 */
import { humanLabel, parseCatalog, type PaletteStyle } from './livestyle-elements.js';
import { cycleStyle, parseCameraParams } from './camera-params.js';

/** The same catalog the demo's style mixer reads (written by the build, served by the dev server). */
const CATALOG_URL = './styles/index.json';
const NEXT_KEYS = new Set(['ArrowRight', 'ArrowDown', 'PageDown', 'n', 'N']);
const PREVIOUS_KEYS = new Set(['ArrowLeft', 'ArrowUp', 'PageUp', 'p', 'P']);

const camera = document.querySelector('livestyle-camera');
const notices = document.querySelector<HTMLElement>('#notices');

function notify(message: string): void {
  const line = document.createElement('p');
  line.className = 'notice';
  line.setAttribute('role', 'alert');
  line.textContent = message;
  notices?.append(line);
}

async function loadCatalog(): Promise<PaletteStyle[]> {
  try {
    const url = new URL(CATALOG_URL, document.baseURI).href;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return parseCatalog(await response.json(), url);
  } catch (e) {
    notify(`Could not load the style catalog ${CATALOG_URL}: ${e instanceof Error ? e.message : String(e)}`);
    return [];
  }
}

async function main(): Promise<void> {
  if (!camera) return;
  const catalog = await loadCatalog();
  const names = catalog.map((c) => c.label);
  const params = parseCameraParams(location.search, names);
  for (const message of params.notices) notify(message);

  // A virtual camera is seen by the others in the call: not mirrored (call apps mirror the self-view themselves).
  camera.mirror = false;
  camera.preset = params.preset;
  camera.subject = params.subject;
  if (params.size) camera.processingSize = params.size;
  if (params.styleSize) camera.styleSize = params.styleSize;

  let current = params.style;
  const show = (name: string | null): void => {
    const entry = catalog.find((c) => c.label === name);
    if (!entry || typeof entry.src !== 'string') return;
    current = entry.label;
    camera.setAttribute('style-src', entry.src);
    camera.dataset.style = entry.label;
    document.title = `livestyle — ${humanLabel(entry.label)}`;
  };
  show(current);

  window.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const step = NEXT_KEYS.has(e.key) ? 1 : PREVIOUS_KEYS.has(e.key) ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    show(cycleStyle(names, current, step));
    // Keep the choice on reload (OBS reloads a Browser Source when its settings change).
    if (current) {
      const url = new URL(location.href);
      url.searchParams.set('style', current);
      history.replaceState(null, '', url);
    }
  });

  camera.addEventListener('state-change', (e) => {
    document.body.dataset.camera = e.detail.state;
  });
  // `style-src` becomes the element's `styles` on its next update; start() only picks up styles it already has.
  await camera.updateComplete;
  await camera.start();
}

void main();
