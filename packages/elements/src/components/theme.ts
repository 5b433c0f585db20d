/** Shared styles of the livestyle elements; theme them with these CSS custom properties and ::part()s. */
import { css } from 'lit';

export const themeStyles = css`
  :host {
    --_accent: var(--livestyle-accent, #3b6cf6);
    --_bg: var(--livestyle-background, #14161c);
    --_fg: var(--livestyle-foreground, #f2f3f5);
    --_muted: var(--livestyle-muted, #9aa0ad);
    --_radius: var(--livestyle-radius, 8px);
    --_danger: var(--livestyle-danger, #ff6b6b);
    display: block;
    color: var(--_fg);
    background: var(--_bg);
    border-radius: var(--_radius);
    font: var(--livestyle-font, 14px/1.4 system-ui, sans-serif);
    padding: 8px;
    box-sizing: border-box;
  }
  :host([hidden]) {
    display: none;
  }
  button,
  select,
  input,
  label.button {
    font: inherit;
    color: var(--_fg);
    background: color-mix(in srgb, var(--_fg) 12%, var(--_bg));
    border: 1px solid color-mix(in srgb, var(--_fg) 25%, transparent);
    border-radius: calc(var(--_radius) / 2);
    padding: 4px 10px;
    min-height: 32px;
  }
  button:hover:not(:disabled),
  label.button:hover {
    border-color: var(--_accent);
  }
  button:disabled {
    opacity: 0.5;
  }
  /* File inputs are visually hidden inside a label styled as a button, which shows their focus. */
  label.button input[type='file'] {
    position: absolute;
    opacity: 0;
    width: 1px;
    height: 1px;
  }
  label.button {
    position: relative;
    display: inline-flex;
    align-items: center;
  }
  label.button:focus-within,
  :focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: 2px;
  }
  .controls {
    display: flex;
    flex-wrap: wrap;
    gap: 6px;
    align-items: center;
    margin-top: 8px;
  }
  .stage {
    position: relative;
    display: grid;
    place-items: center;
    min-height: 120px;
    background: #000;
    border-radius: calc(var(--_radius) / 2);
    overflow: hidden;
  }
  .stage canvas {
    max-width: 100%;
    width: 100%;
    height: auto;
    image-rendering: auto;
  }
  .message {
    position: absolute;
    inset: 0;
    display: grid;
    place-items: center;
    text-align: center;
    padding: 16px;
    background: color-mix(in srgb, var(--_bg) 85%, transparent);
  }
  .message[data-kind='error'] {
    color: var(--_danger);
  }
  .notice {
    position: absolute;
    left: 8px;
    right: 8px;
    bottom: 8px;
    padding: 6px 10px;
    font-size: 0.85em;
    border-radius: 6px;
    background: color-mix(in srgb, var(--_bg) 85%, transparent);
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
  }
`;
