// The chromeless output page's query parameters (demo/camera-params.ts): defaults, validation and
// one notice per problem, and the style cycling of its keyboard shortcuts.
import { describe, expect, it } from 'vitest';
import { cycleStyle, parseCameraParams } from '../../demo/camera-params.js';

const NAMES = ['starry_night', 'the_scream', 'mondrian'];

describe('parseCameraParams', () => {
  it('takes the defaults with no query: the first built-in style, realtime, the whole picture', () => {
    expect(parseCameraParams('', NAMES)).toEqual({
      style: 'starry_night',
      preset: 'realtime',
      subject: 'all',
      size: 0,
      styleSize: 0,
      notices: [],
    });
  });

  it('takes valid values as given', () => {
    const p = parseCameraParams('?style=mondrian&preset=best&subject=all&size=128&style-size=256', NAMES);
    expect(p).toMatchObject({ style: 'mondrian', preset: 'best', subject: 'all', size: 128, styleSize: 256, notices: [] });
  });

  it('names what is accepted when a style or preset is unknown, and carries on with the default', () => {
    const p = parseCameraParams('?style=nope&preset=turbo', NAMES);
    expect(p.style).toBe('starry_night');
    expect(p.preset).toBe('realtime');
    expect(p.notices).toEqual([
      'Unknown style "nope": use one of starry_night, the_scream, mondrian (showing starry_night).',
      'Unknown preset "turbo": use realtime, balanced, best (using realtime).',
    ]);
  });

  it('takes subject=all/background/person; anything else gets one notice and the whole picture', () => {
    for (const subject of ['all', 'background', 'person'] as const) {
      expect(parseCameraParams(`?subject=${subject}`, NAMES)).toMatchObject({ subject, notices: [] });
    }
    const p = parseCameraParams('?subject=cat', NAMES);
    expect(p.subject).toBe('all');
    expect(p.notices).toEqual(['Unknown subject "cat": use all, background, person (the whole picture is stylised).']);
  });

  it('refuses sizes that are not whole pixels in range', () => {
    for (const size of ['abc', '16', '4096', '12.5', '']) {
      const p = parseCameraParams(`?size=${size}`, NAMES);
      expect(p.size).toBe(0);
      expect(p.notices).toEqual([`size=${size} is not a size: use a whole number of pixels from 32 to 2048.`]);
    }
  });

  it('says so when there are no built-in styles', () => {
    const p = parseCameraParams('?style=x', []);
    expect(p.style).toBeNull();
    expect(p.notices).toEqual(['Unknown style "x": no built-in styles are installed.']);
  });
});

describe('cycleStyle', () => {
  it('steps forwards and backwards through the catalog, wrapping around', () => {
    expect(cycleStyle(NAMES, 'starry_night', 1)).toBe('the_scream');
    expect(cycleStyle(NAMES, 'mondrian', 1)).toBe('starry_night');
    expect(cycleStyle(NAMES, 'starry_night', -1)).toBe('mondrian');
    expect(cycleStyle(NAMES, 'unknown', 1)).toBe('starry_night');
    expect(cycleStyle([], null, 1)).toBeNull();
  });
});
