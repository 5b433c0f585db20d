/**
 * The query parameters of the chromeless output page (`camera.html`), validated. Every problem
 * becomes one line of text for the page to show; the page then carries on with the default.
 */
import { QUALITY_PRESETS, isQualityPreset, type QualityPreset } from '../packages/elements/src/components/types.js';

/** What `subject=` accepts (the elements' `subject`). */
export const SUBJECTS = ['all', 'background', 'person'] as const;
type CameraSubject = (typeof SUBJECTS)[number];
const isSubject = (v: string | null): v is CameraSubject => (SUBJECTS as readonly (string | null)[]).includes(v);
/** Bounds of `size=` and `style-size=` (longer side, px). */
export const SIZE_RANGE_PX = { min: 32, max: 2048 } as const;

export interface CameraParams {
  /** A built-in style's name (catalog `name`), or null when the catalog is empty. */
  readonly style: string | null;
  readonly preset: QualityPreset;
  readonly subject: CameraSubject;
  /** Processing size (longer side, px); 0 = the preset's. */
  readonly size: number;
  /** Style image size (longer side, px); 0 = the element's default. */
  readonly styleSize: number;
  /** One line per problem found in the query (the page shows each). */
  readonly notices: readonly string[];
}

function sidePx(name: string, value: string | null, notices: string[]): number {
  if (value === null) return 0;
  const n = Number(value);
  if (/^\d+$/.test(value.trim()) && n >= SIZE_RANGE_PX.min && n <= SIZE_RANGE_PX.max) return n;
  notices.push(`${name}=${value} is not a size: use a whole number of pixels from ${SIZE_RANGE_PX.min} to ${SIZE_RANGE_PX.max}.`);
  return 0;
}

/** Parses `?style=&preset=&subject=&size=&style-size=` against the built-in style names. */
export function parseCameraParams(search: string, styleNames: readonly string[]): CameraParams {
  const query = new URLSearchParams(search);
  const notices: string[] = [];

  let style = styleNames[0] ?? null;
  const askedStyle = query.get('style');
  if (askedStyle !== null && styleNames.includes(askedStyle)) style = askedStyle;
  else if (askedStyle !== null)
    notices.push(
      styleNames.length
        ? `Unknown style "${askedStyle}": use one of ${styleNames.join(', ')} (showing ${style}).`
        : `Unknown style "${askedStyle}": no built-in styles are installed.`,
    );

  let preset: QualityPreset = 'realtime';
  const askedPreset = query.get('preset');
  if (isQualityPreset(askedPreset)) preset = askedPreset;
  else if (askedPreset !== null) notices.push(`Unknown preset "${askedPreset}": use ${QUALITY_PRESETS.join(', ')} (using ${preset}).`);

  let subject: CameraSubject = 'all';
  const askedSubject = query.get('subject');
  if (isSubject(askedSubject)) subject = askedSubject;
  else if (askedSubject !== null)
    notices.push(`Unknown subject "${askedSubject}": use ${SUBJECTS.join(', ')} (the whole picture is stylised).`);

  const size = sidePx('size', query.get('size'), notices);
  const styleSize = sidePx('style-size', query.get('style-size'), notices);
  return { style, preset, subject, size, styleSize, notices };
}

/** The next (`step` 1) or previous (`step` -1) style name, wrapping around. */
export function cycleStyle(styleNames: readonly string[], current: string | null, step: 1 | -1): string | null {
  if (styleNames.length === 0) return null;
  const i = current === null ? -1 : styleNames.indexOf(current);
  if (i < 0) return styleNames[0]!;
  return styleNames[(i + step + styleNames.length) % styleNames.length]!;
}
