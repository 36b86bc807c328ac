/**
 * Label colours: the `rgb` of each VISTA3D label in assets/vista3d-segment-codes.json (the colours
 * Voxgate also writes into DICOM SEG), bundled into the page; labels without one (zero-shot indices
 * 133–254) get a distinct hue by the golden angle.
 * @module
 */
import segmentCodes from '../../assets/vista3d-segment-codes.json';
import type { Rgb } from './label-stats.js';

const table = new Map<number, Rgb>();
for (const [key, entry] of Object.entries(segmentCodes as unknown as Record<string, { rgb?: number[] | null }>)) {
  const rgb = entry.rgb;
  if (Array.isArray(rgb) && rgb.length === 3) table.set(Number(key), [rgb[0], rgb[1], rgb[2]]);
}

/** HSL (h in degrees, s and l in 0..1) → RGB 0..255. */
function hsl(h: number, s: number, l: number): Rgb {
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

export function labelColor(index: number): Rgb {
  return table.get(index) ?? hsl((index * 137.508) % 360, 0.75, 0.55);
}

/** `#rrggbb` for CSS. */
export function cssColor([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}
