/**
 * Storage SOP classes that are not images to stack into a volume (PS3.4 Annex B.5 / PS3.6 Annex
 * A): structured reports, segmentations, presentation states, RT objects, key object selection,
 * registrations, raw data, encapsulated documents, waveforms, spectroscopy. Files of these classes
 * are skipped with the class named in the reason; everything else with pixel data is read.
 * @module
 */

/** UID (exact, or a prefix ending in '.') → short name for skip reasons. */
const NON_IMAGE: readonly (readonly [string, string])[] = [
  ['1.2.840.10008.1.3.10', 'Media Storage Directory (DICOMDIR)'],
  ['1.2.840.10008.5.1.4.1.1.88.59', 'Key Object Selection (KO)'],
  ['1.2.840.10008.5.1.4.1.1.88.', 'Structured Report (SR)'],
  ['1.2.840.10008.5.1.4.1.1.66.4', 'Segmentation (SEG)'],
  ['1.2.840.10008.5.1.4.1.1.66.5', 'Surface Segmentation'],
  ['1.2.840.10008.5.1.4.1.1.66.7', 'Label Map Segmentation'],
  ['1.2.840.10008.5.1.4.1.1.66.', 'Raw Data / Registration / Fiducials'],
  ['1.2.840.10008.5.1.4.1.1.11.', 'Presentation State (PR)'],
  ['1.2.840.10008.5.1.4.1.1.481.', 'Radiotherapy object (RT)'],
  ['1.2.840.10008.5.1.4.1.1.104.', 'Encapsulated document'],
  ['1.2.840.10008.5.1.4.1.1.9.', 'Waveform'],
  ['1.2.840.10008.5.1.4.1.1.4.2', 'MR Spectroscopy'],
  ['1.2.840.10008.5.1.4.1.1.30', 'Parametric Map'],
  ['1.2.840.10008.5.1.4.1.1.67', 'Real World Value Mapping'],
  ['1.2.840.10008.5.1.4.1.1.68.', 'Surface object'],
  ['1.2.840.10008.5.1.4.1.1.82.', 'Measurement object'],
  ['1.2.840.10008.5.1.4.1.1.90.', 'Content Assessment Results'],
  ['1.2.840.10008.5.1.4.1.1.91.', 'Microscopy annotation'],
  ['1.2.840.10008.5.1.4.1.1.200.', 'Protocol or planning object'],
  ['1.2.840.10008.5.1.4.34.', 'Radiotherapy second-generation object'],
  ['1.2.840.10008.5.1.4.38.', 'Hanging Protocol'],
  ['1.2.840.10008.5.1.4.39.', 'Color Palette'],
  ['1.2.840.10008.5.1.4.43.', 'Generic Implant Template'],
  ['1.2.840.10008.5.1.4.44.', 'Implant Assembly Template'],
  ['1.2.840.10008.5.1.4.45.', 'Implant Template Group'],
];

/** The kind of non-image object a SOP class is, or undefined for image (and unknown) classes. */
export function nonImageSopClass(sopClassUID: string): string | undefined {
  for (const [uid, name] of NON_IMAGE) {
    if (uid.endsWith('.') ? sopClassUID.startsWith(uid) : sopClassUID === uid) return name;
  }
  return undefined;
}
