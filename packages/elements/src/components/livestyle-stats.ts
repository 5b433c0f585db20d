/** `<livestyle-stats>`: a small overlay with frames per second, milliseconds per stage and the backend. */
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { StageTimings } from '@livestyle/core';

/**
 * @csspart panel - the overlay box
 * @cssprop --livestyle-stats-background - overlay background (default translucent black)
 */
@customElement('livestyle-stats')
export class LivestyleStats extends LitElement {
  static override styles = css`
    :host {
      position: absolute;
      top: 6px;
      left: 6px;
      pointer-events: none;
      font:
        12px/1.3 ui-monospace,
        monospace;
    }
    .panel {
      background: var(--livestyle-stats-background, rgb(0 0 0 / 65%));
      color: #fff;
      padding: 4px 6px;
      border-radius: 4px;
      white-space: pre;
    }
  `;

  /** Frames per second. */
  @property({ type: Number }) fps = 0;
  /** Stage timings of the last frame. */
  @property({ attribute: false }) timings: StageTimings | null = null;
  /** The tf.js backend in use. */
  @property() backend = '';
  /** Processing size of the last frame, e.g. "256x192". */
  @property() size = '';
  /** What the temporal stage did on the last frame ("" when off). */
  @property() temporal = '';

  override render(): unknown {
    const t = this.timings;
    const ms = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(1));
    const lines = [
      `${this.fps.toFixed(1)} fps  ${this.backend || '…'}  ${this.size}`,
      t ? `encode ${ms(t.encodeMs)}  transform ${ms(t.transformMs)}  decode ${ms(t.decodeMs)}  total ${ms(t.totalMs)} ms` : 'no frame yet',
    ];
    if (this.temporal) lines.push(this.temporal);
    return html`<div part="panel" role="status" aria-live="off">${lines.join('\n')}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'livestyle-stats': LivestyleStats;
  }
}
