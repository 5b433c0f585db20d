/** The demo page: the three use cases wired together (the mixer drives both stylizers). */
import { humanLabel } from './livestyle-elements.js';

const camera = document.querySelector('livestyle-camera');
const status = document.querySelector<HTMLElement>('#status');

// Announce what the elements report (screen readers get the live region).
for (const el of document.querySelectorAll<HTMLElement>('livestyle-camera, livestyle-video')) {
  el.addEventListener('styles-ready', (e) => {
    if (status) status.textContent = `Style: ${e.detail.styles.map((s) => humanLabel(s.label ?? 'custom')).join(' + ')}`;
  });
}
camera?.addEventListener('state-change', (e) => {
  document.body.dataset.camera = e.detail.state;
});
