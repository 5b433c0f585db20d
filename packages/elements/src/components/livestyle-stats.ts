/** `<livestyle-stats>`: a small overlay with frames per second, milliseconds per stage and the backend. */
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { StageTimings } from '@livestyle/core';

/**
 * The overlay's lines: fps, the frame's completed total, and the stages, marked when they come from
 * the last frame timed stage by stage rather than this one (see `FrameDetail.timings`).
 */
export function statsLines(
  fps: number,
  backend: string,
  size: string,
  timings: StageTimings | null,
  stagesTimedThisFrame: boolean,
): string[] {
  const ms = (v: number): string => v.toFixed(1);
  const lines = [`${fps.toFixed(1)} fps  ${backend || '…'}  ${size}`];
  if (!timings) return [...lines, 'no frame yet'];
  const stages = `encode ${ms(timings.encodeMs)}  transform ${ms(timings.transformMs)}  decode ${ms(timings.decodeMs)} ms`;
  return [...lines, `total ${ms(timings.totalMs)} ms per frame`, stagesTimedThisFrame ? stages : `last timed: ${stages}`];
}

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
  /** Completed-work timings of the last frame (`FrameDetail.timings`). */
  @property({ attribute: false }) timings: StageTimings | null = null;
  /** Whether the stage figures were timed on the last frame (else on the last timed frame). */
  @property({ attribute: false }) stagesTimedThisFrame = true;
  /** The tf.js backend in use. */
  @property() backend = '';
  /** Processing size of the last frame, e.g. "256x192". */
  @property() size = '';
  /** What the temporal stage did on the last frame ("" when off). */
  @property() temporal = '';

  override render(): unknown {
    const lines = statsLines(this.fps, this.backend, this.size, this.timings, this.stagesTimedThisFrame);
    if (this.temporal) lines.push(this.temporal);
    return html`<div part="panel" role="status" aria-live="off">${lines.join('\n')}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'livestyle-stats': LivestyleStats;
  }
}
