/**
 * The legend of a label map: which labels it holds, how many voxels each, and their volume in mL.
 * Computed in the page from the label file the API returned (one request per run). Pure, tested in
 * Node against the server's own summary.
 * @module
 */
import { NOT_COMPUTED } from './label-groups.js';

export type Rgb = readonly [number, number, number];

export interface LegendEntry {
  index: number;
  name: string;
  rgb: Rgb;
  voxels: number;
  /** Volume in millilitres: voxels × voxel volume, rounded to whole µL exactly as the API's JSON summary. */
  ml: number;
}

/** Voxel count per label value (background 0 included); values are integers 0–65535. */
export function countLabels(data: ArrayLike<number>): Map<number, number> {
  const histogram = new Uint32Array(65536);
  for (let n = 0; n < data.length; n++) histogram[data[n] & 0xffff]++;
  const counts = new Map<number, number>();
  histogram.forEach((count, value) => {
    if (count > 0) counts.set(value, count);
  });
  return counts;
}

/**
 * Legend entries for every label but background and "not computed" (255), by index.
 * @example
 * legendEntries(countLabels(labels), 3.375, (i) => names[i], colorOf); // 1.5 mm voxels
 * // → [{ index: 21, name: 'bone', rgb: [241, 214, 145], voxels: 120345, ml: 406.164 }, …]
 */
export function legendEntries(
  counts: ReadonlyMap<number, number>,
  voxelMm3: number,
  nameOf: (index: number) => string | undefined,
  colorOf: (index: number) => Rgb,
): LegendEntry[] {
  return [...counts]
    .filter(([index]) => index !== 0 && index !== NOT_COMPUTED)
    .sort((a, b) => a[0] - b[0])
    .map(([index, voxels]) => ({
      index,
      name: nameOf(index) ?? `label ${index}`,
      rgb: colorOf(index),
      voxels,
      ml: Math.round(voxels * voxelMm3) / 1000,
    }));
}

/** "412 mL", "3.52 mL", "0.041 mL": three significant digits at least, never exponent notation. */
export function formatMl(ml: number): string {
  if (ml >= 100) return `${Math.round(ml)} mL`;
  if (ml >= 10) return `${ml.toFixed(1)} mL`;
  if (ml >= 1) return `${ml.toFixed(2)} mL`;
  return `${ml.toFixed(3)} mL`;
}
