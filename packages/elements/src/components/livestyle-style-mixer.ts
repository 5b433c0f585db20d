/** `<livestyle-style-mixer>`: choose and blend styles, and set strength, colour, method, preset and smoothing. */
import { LitElement, html, css, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { TransformMethod } from '@livestyle/core';
import { onDragLeave, onDragOver, onDropFiles } from './drop-zone.js';
import { themeStyles } from './theme.js';
import { SURFACE_DEFAULTS } from '@livestyle/core/internal/pipeline/settings.js';
import { QUALITY_PRESETS, isQualityPreset, type QualityPreset, type StyleSettings, type StyleSource } from './types.js';

/** A palette entry: a built-in style (from the catalog) or one of the user's images. */
export interface PaletteStyle {
  readonly id: string;
  readonly label: string;
  readonly src: string | Blob;
  /** Thumbnail URL (for user images an object URL owned by the mixer). */
  readonly thumbnail: string;
  readonly user: boolean;
}

/** One entry of a style catalog JSON (`catalog-url`): `[{ "name": "...", "src": "...", "thumbnail": "..." }]`. */
export interface CatalogEntry {
  readonly name: string;
  readonly src: string;
  readonly thumbnail?: string;
}

/** Validates a catalog and resolves its URLs against the catalog's own URL. */
export function parseCatalog(json: unknown, baseUrl: string): PaletteStyle[] {
  if (!Array.isArray(json)) throw new Error('the style catalog must be a JSON array');
  return json.map((entry: unknown, i) => {
    const e = entry as Partial<CatalogEntry> | null;
    if (!e || typeof e.name !== 'string' || typeof e.src !== 'string')
      throw new Error(`style catalog entry ${i + 1} needs "name" and "src" strings`);
    const src = new URL(e.src, baseUrl).href;
    return {
      id: `builtin:${e.name}`,
      label: e.name,
      src,
      thumbnail: typeof e.thumbnail === 'string' ? new URL(e.thumbnail, baseUrl).href : src,
      user: false,
    };
  });
}

/** "starry_night" → "Starry night". */
export function humanLabel(name: string): string {
  const spaced = name.replace(/[_-]+/g, ' ').trim();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** An element the mixer can drive (`<livestyle-camera>`, `<livestyle-video>` or any with `applySettings`). */
export interface StyleSettingsTarget {
  applySettings(settings: StyleSettings): void;
}

function isSettingsTarget(v: unknown): v is StyleSettingsTarget {
  return typeof (v as { applySettings?: unknown } | null)?.applySettings === 'function';
}

interface BlendEntry {
  readonly id: string;
  weight: number;
}

/**
 * A palette of built-in styles plus the user's own images (file picker, drag-drop, paste), a
 * weight slider per style of the blend, and the stylisation settings. It applies its settings to
 * the elements named in `for` (ids, space-separated) and fires `style-change`, so it also works
 * alone.
 *
 * @fires style-change - the settings changed (`StyleChangeDetail`)
 * @fires error - a catalog or image could not be used (`ErrorDetail`)
 * @csspart palette - the list of styles
 * @csspart thumbnail - a style's button
 * @csspart blend - the list of weight sliders
 * @csspart slider - every slider
 * @csspart settings - the settings row
 * @csspart button - every button
 * @cssprop --livestyle-accent - accent colour (selected styles, focus rings)
 * @cssprop --livestyle-background - background colour
 * @cssprop --livestyle-foreground - text colour
 * @cssprop --livestyle-thumbnail-size - thumbnail size (default 64px)
 */
@customElement('livestyle-style-mixer')
export class LivestyleStyleMixer extends LitElement {
  static override styles = [
    themeStyles,
    css`
      .palette {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
        list-style: none;
        margin: 0;
        padding: 0;
      }
      .thumb {
        padding: 2px;
        min-height: 0;
        line-height: 0;
        border-width: 2px;
      }
      .thumb[aria-pressed='true'] {
        border-color: var(--_accent);
      }
      .thumb img {
        width: var(--livestyle-thumbnail-size, 64px);
        height: var(--livestyle-thumbnail-size, 64px);
        object-fit: cover;
        border-radius: 4px;
      }
      .blend,
      .settings {
        display: flex;
        flex-wrap: wrap;
        gap: 6px 14px;
        align-items: center;
        margin-top: 8px;
      }
      .blend label {
        display: flex;
        gap: 4px;
        align-items: center;
      }
      .drop[data-over] {
        outline: 2px dashed var(--_accent);
      }
    `,
  ];

  /** Ids (space-separated) of the `<livestyle-camera>`/`<livestyle-video>` elements to drive. */
  @property({ attribute: 'for' }) for = '';
  /** URL of a JSON style catalog (`[{ name, src, thumbnail? }]`). */
  @property({ attribute: 'catalog-url' }) catalogUrl = '';
  /** Names (space-separated) of the built-in styles selected first; default the first one. */
  @property() selected = '';
  /** Blend mode: a click adds or removes a style instead of replacing the blend. */
  @property({ type: Boolean, reflect: true }) blend = false;
  /** Style strength in [0, 1]. */
  @property({ type: Number }) alpha = 1;
  /** Keep the content's colours. */
  @property({ type: Boolean, attribute: 'preserve-color' }) preserveColor = false;
  @property() method: TransformMethod = 'wct';
  @property() preset: QualityPreset = SURFACE_DEFAULTS.camera.preset ?? 'realtime';
  /** Temporal smoothing for video. */
  @property({ type: Boolean }) temporal = true;

  @state() private palette: PaletteStyle[] = [];
  @state() private blendEntries: BlendEntry[] = [];
  @state() private notice = '';
  private userCount = 0;

  /** The settings as they stand (what `style-change` carries). */
  get settings(): StyleSettings {
    const byId = new Map(this.palette.map((p) => [p.id, p]));
    const styles: StyleSource[] = [];
    for (const b of this.blendEntries) {
      const p = byId.get(b.id);
      if (p) styles.push({ src: p.src, weight: b.weight, label: p.label });
    }
    return {
      styles,
      alpha: this.alpha,
      preserveColor: this.preserveColor,
      method: this.method,
      preset: this.preset,
      temporal: this.temporal,
    };
  }

  /** The palette (built-ins first, then the user's images). */
  get styleChoices(): readonly PaletteStyle[] {
    return this.palette;
  }

  /** Replaces the blend with the named styles (palette labels or ids), equal weights. */
  selectStyles(names: readonly string[]): void {
    const ids = names.map((n) => this.palette.find((p) => p.label === n || p.id === n)?.id).filter((id): id is string => !!id);
    if (ids.length === 0) return;
    this.blendEntries = ids.map((id) => ({ id, weight: 1 }));
    this.emit();
  }

  /** Adds user images (from a picker, a drop or a paste) to the palette and selects them. */
  addUserImages(files: readonly File[]): void {
    const images = files.filter((f) => f.type.startsWith('image/'));
    if (images.length < files.length) this.showNotice('Only image files can be styles.');
    if (images.length === 0) return;
    const added = images.map((file) => {
      this.userCount++;
      return {
        id: `user:${this.userCount}`,
        label: file.name || `Pasted image ${this.userCount}`,
        src: file,
        thumbnail: URL.createObjectURL(file),
        user: true,
      };
    });
    this.palette = [...this.palette, ...added];
    if (this.blend) this.blendEntries = [...this.blendEntries, ...added.map((a) => ({ id: a.id, weight: 1 }))];
    else this.blendEntries = [{ id: added[0]!.id, weight: 1 }];
    this.emit();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener('paste', this.onPaste);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener('paste', this.onPaste);
    for (const p of this.palette) if (p.user) URL.revokeObjectURL(p.thumbnail);
  }

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('catalogUrl') && this.catalogUrl) void this.loadCatalog(this.catalogUrl);
    if (changed.has('for') && this.for && this.blendEntries.length) this.applyToTargets(this.settings);
  }

  private async loadCatalog(url: string): Promise<void> {
    try {
      const absolute = new URL(url, document.baseURI).href;
      const response = await fetch(absolute);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const builtins = parseCatalog(await response.json(), absolute);
      if (url !== this.catalogUrl) return;
      this.palette = [...builtins, ...this.palette.filter((p) => p.user)];
      if (this.blendEntries.length === 0 && builtins.length) {
        // The `selected` names, else (none given or none found) the first built-in style.
        this.selectStyles(this.selected.split(/\s+/).filter(Boolean));
        if (this.blendEntries.length === 0) this.selectStyles([builtins[0]!.label]);
      }
    } catch (e) {
      const message = `Could not load the style catalog ${url}: ${e instanceof Error ? e.message : String(e)}`;
      this.showNotice(message);
      this.dispatchEvent(new CustomEvent('error', { detail: { message, cause: e } }));
    }
  }

  private toggle(style: PaletteStyle): void {
    const index = this.blendEntries.findIndex((b) => b.id === style.id);
    if (!this.blend) {
      this.blendEntries = [{ id: style.id, weight: 1 }];
    } else if (index < 0) {
      this.blendEntries = [...this.blendEntries, { id: style.id, weight: 1 }];
    } else if (this.blendEntries.length > 1) {
      this.blendEntries = this.blendEntries.filter((b) => b.id !== style.id);
    } else {
      this.showNotice('A blend needs at least one style.');
      return;
    }
    this.emit();
  }

  private setWeight(id: string, weight: number): void {
    this.blendEntries = this.blendEntries.map((b) => (b.id === id ? { id, weight } : b));
    if (this.blendEntries.every((b) => b.weight === 0)) this.showNotice('All weights are 0: the styles are blended equally.');
    this.emit();
  }

  private removeUserStyle(style: PaletteStyle): void {
    URL.revokeObjectURL(style.thumbnail);
    this.palette = this.palette.filter((p) => p.id !== style.id);
    const rest = this.blendEntries.filter((b) => b.id !== style.id);
    const fallback = this.palette[0];
    this.blendEntries = rest.length ? rest : fallback ? [{ id: fallback.id, weight: 1 }] : [];
    this.emit();
  }

  private setSetting<K extends 'alpha' | 'preserveColor' | 'method' | 'preset' | 'temporal'>(key: K, value: this[K]): void {
    this[key] = value;
    this.emit();
  }

  /** Applies the settings to the driven elements and fires `style-change`. */
  private emit(): void {
    const settings = this.settings;
    this.applyToTargets(settings);
    this.dispatchEvent(new CustomEvent('style-change', { detail: settings, bubbles: true, composed: true }));
  }

  private applyToTargets(settings: StyleSettings): void {
    if (settings.styles.length === 0) return;
    const root = this.getRootNode() as Document | ShadowRoot;
    for (const id of this.for.split(/\s+/).filter(Boolean)) {
      const target: unknown = root.getElementById(id);
      if (isSettingsTarget(target)) target.applySettings(settings);
    }
  }

  private showNotice(message: string): void {
    this.notice = message;
  }

  private readonly onPaste = (e: ClipboardEvent): void => {
    const target = e.composedPath()[0];
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) return;
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.some((f) => f.type.startsWith('image/'))) {
      e.preventDefault();
      this.addUserImages(files);
    }
  };

  /** The strength, colour, method, preset and smoothing controls. */
  private renderSettings(): unknown {
    return html`
      <div class="settings" part="settings">
        <label
          >Strength
          <input
            part="slider"
            class="alpha"
            type="range"
            min="0"
            max="1"
            step="0.05"
            .value=${String(this.alpha)}
            @input=${(e: Event) => this.setSetting('alpha', Number((e.target as HTMLInputElement).value))}
        /></label>
        <label
          ><input
            type="checkbox"
            class="preserve-color"
            .checked=${this.preserveColor}
            @change=${(e: Event) => this.setSetting('preserveColor', (e.target as HTMLInputElement).checked)}
          />
          Keep colours</label
        >
        <label
          >Method
          <select
            class="method"
            @change=${(e: Event) => this.setSetting('method', (e.target as HTMLSelectElement).value as TransformMethod)}
          >
            <option value="wct" ?selected=${this.method === 'wct'}>WCT</option>
            <option value="adain" ?selected=${this.method === 'adain'}>AdaIN</option>
          </select></label
        >
        <label
          >Preset
          <select
            class="preset"
            @change=${(e: Event) => {
              const v = (e.target as HTMLSelectElement).value;
              if (isQualityPreset(v)) this.setSetting('preset', v);
            }}
          >
            ${QUALITY_PRESETS.map((p) => html`<option value=${p} ?selected=${this.preset === p}>${p}</option>`)}
          </select></label
        >
        <label
          ><input
            type="checkbox"
            class="temporal"
            .checked=${this.temporal}
            @change=${(e: Event) => this.setSetting('temporal', (e.target as HTMLInputElement).checked)}
          />
          Smooth video</label
        >
      </div>
    `;
  }

  override render(): unknown {
    const selectedIds = new Set(this.blendEntries.map((b) => b.id));
    const byId = new Map(this.palette.map((p) => [p.id, p]));
    return html`
      <div class="drop" @dragover=${onDragOver} @dragleave=${onDragLeave} @drop=${onDropFiles((files) => this.addUserImages(files))}>
        <ul class="palette" part="palette" aria-label="Styles">
          ${this.palette.map(
            (p) =>
              html`<li>
                <button
                  part="thumbnail"
                  class="thumb"
                  data-style=${p.label}
                  aria-pressed=${String(selectedIds.has(p.id))}
                  title=${humanLabel(p.label)}
                  @click=${() => this.toggle(p)}
                >
                  <img src=${p.thumbnail} alt=${humanLabel(p.label)} loading="lazy" decoding="async" />
                </button>
                ${
                  p.user
                    ? html`<button part="button" class="remove" aria-label=${`Remove ${p.label}`} @click=${() => this.removeUserStyle(p)}>
                        ×
                      </button>`
                    : nothing
                }
              </li>`,
          )}
        </ul>
      </div>
      <div class="settings" part="settings">
        <label class="button" part="button"
          >Add your image…<input
            type="file"
            accept="image/*"
            multiple
            @change=${(e: Event) => {
              const input = e.target as HTMLInputElement;
              this.addUserImages([...(input.files ?? [])]);
              input.value = '';
            }}
        /></label>
        <label
          ><input
            type="checkbox"
            class="blend-mode"
            .checked=${this.blend}
            @change=${(e: Event) => (this.blend = (e.target as HTMLInputElement).checked)}
          />
          Blend styles</label
        >
      </div>
      <div class="blend" part="blend" aria-label="Style weights">
        ${this.blendEntries.map((b) => {
          const label = humanLabel(byId.get(b.id)?.label ?? b.id);
          return html`<label
            >${label}
            <input
              part="slider"
              class="weight"
              data-style=${byId.get(b.id)?.label ?? b.id}
              type="range"
              min="0"
              max="1"
              step="0.05"
              .value=${String(b.weight)}
              aria-label=${`Weight of ${label}`}
              @input=${(e: Event) => this.setWeight(b.id, Number((e.target as HTMLInputElement).value))}
          /></label>`;
        })}
      </div>
      ${this.renderSettings()} ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'livestyle-style-mixer': LivestyleStyleMixer;
  }
}
