/**
 * Script of the job service's page (browser): sends the clip and the mixer's styles to POST /jobs,
 * follows the job's events and offers the output. Bundled into vendor/service-page.js.
 */
import '@livestyle/elements/internal/components/livestyle-style-mixer.js';
import type { StyleSettings } from '@livestyle/elements/internal/components/types.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
let current: { id: string; token: string; events: EventSource } | null = null;

const showError = (message: string): void => {
  $('error').textContent = message;
};

interface Status {
  state: string;
  framesDone: number;
  framesTotal: number;
  fps: number;
  etaSeconds: number | null;
  error?: string;
}

function render(status: Status): void {
  const progress = $<HTMLProgressElement>('progress');
  progress.max = Math.max(1, status.framesTotal);
  progress.value = status.framesDone;
  const eta = status.etaSeconds !== null && status.state === 'running' ? `, about ${Math.ceil(status.etaSeconds)} s left` : '';
  $('status').textContent =
    `${status.state}: ${status.framesDone} of ${status.framesTotal || '?'} frames (${status.fps.toFixed(1)} frames/s${eta})${status.error ? ` — ${status.error}` : ''}`;
  if (status.state === 'done' && current) {
    const a = $<HTMLAnchorElement>('download');
    a.href = `/jobs/${current.id}/output?token=${encodeURIComponent(current.token)}`;
    a.hidden = false;
  }
  if (['done', 'failed', 'cancelled'].includes(status.state)) finish();
}

function finish(): void {
  current?.events.close();
  $('cancel').hidden = true;
  $<HTMLButtonElement>('submit').disabled = false;
}

$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  void submit();
});

async function submit(): Promise<void> {
  showError('');
  const clip = $<HTMLInputElement>('clip').files?.[0];
  if (!clip) return showError('Choose a clip first.');
  const settings = ($('mixer') as unknown as { settings: StyleSettings }).settings;
  if (settings.styles.length === 0) return showError('Choose a style first.');
  const form = new FormData();
  form.append('clip', clip, clip.name);
  for (const [i, s] of settings.styles.entries()) {
    const builtIn = typeof s.src === 'string' ? /\/styles\/([A-Za-z0-9_-]+)\.jpg$/.exec(new URL(s.src, location.href).pathname) : null;
    if (builtIn?.[1]) form.append('styleId', builtIn[1]);
    else {
      const blob = typeof s.src === 'string' ? await (await fetch(s.src)).blob() : s.src;
      form.append('style', blob, `style-${i}.${blob.type === 'image/png' ? 'png' : 'jpg'}`);
    }
  }
  form.append('weights', settings.styles.map((s) => s.weight ?? 1).join(','));
  form.append(
    'options',
    JSON.stringify({
      preset: settings.preset,
      method: settings.method,
      alpha: settings.alpha,
      preserveColor: settings.preserveColor,
      temporal: settings.temporal,
      size: Number($<HTMLSelectElement>('size').value),
      format: $<HTMLSelectElement>('format').value,
    }),
  );
  $<HTMLButtonElement>('submit').disabled = true;
  const res = await fetch('/jobs', { method: 'POST', body: form });
  const body = (await res.json()) as { id?: string; token?: string; error?: string };
  if (!res.ok || !body.id || !body.token) {
    $<HTMLButtonElement>('submit').disabled = false;
    return showError(body.error ?? `upload failed (${res.status})`);
  }
  $('job').hidden = false;
  $('download').hidden = true;
  $('cancel').hidden = false;
  const events = new EventSource(`/jobs/${body.id}/events?token=${encodeURIComponent(body.token)}`);
  current = { id: body.id, token: body.token, events };
  events.addEventListener('status', (m) => render(JSON.parse((m as MessageEvent<string>).data) as Status));
}

$('cancel').addEventListener('click', () => {
  if (!current) return;
  const { id, token } = current;
  void fetch(`/jobs/${id}?token=${encodeURIComponent(token)}`, { method: 'DELETE' }).then(() => {
    $('status').textContent = 'cancelled';
    finish();
  });
});
