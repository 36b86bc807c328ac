/**
 * How the page arranges VISTA3D's 133 labels (names from `/v1/vista3d/info`): anatomical sections
 * for the class picker, and which labels a class prompt may ask for. Pure, tested in Node.
 * @module
 */

/**
 * VISTA3D's group classes (spec/nim-api.md): a class prompt for one of them means its members
 * (2 → 14, 5; 20 → 28–32; 21 → 33–56, 63–97, 114, 120, 122).
 */
export const LABEL_GROUPS: ReadonlyMap<number, readonly number[]> = new Map([
  [2, [14, 5]],
  [20, [28, 29, 30, 31, 32]],
  [21, [...range(33, 56), ...range(63, 97), 114, 120, 122]],
]);

/** Label 255 in a result: a region the engine did not look at (spec/nim-api.md). */
export const NOT_COMPUTED = 255;

export type SectionName = 'Organs' | 'Vessels' | 'Airway and lungs' | 'Bones' | 'Muscles' | 'Lesions and tumours' | 'Other';

/** Section order in the picker. */
export const SECTIONS: readonly SectionName[] = ['Organs', 'Airway and lungs', 'Vessels', 'Bones', 'Muscles', 'Lesions and tumours', 'Other'];

const RULES: readonly (readonly [SectionName, RegExp])[] = [
  ['Lesions and tumours', /tumou?r|cancer|lesion|cyst|mass/i],
  ['Airway and lungs', /lung|trachea|airway/i],
  ['Vessels', /aorta|vena|vein|artery|trunk|vessel|atrial appendage/i],
  ['Bones', /bone|vertebra|rib\b|rib \d|humerus|scapula|clavicula|femur|hip\b|sacrum|skull|sternum|cartilage/i],
  ['Muscles', /gluteus|autochthon|iliopsoas/i],
  [
    'Organs',
    /liver|kidney|spleen|pancreas|adrenal|gallbladder|esophagus|stomach|duodenum|bladder|prostate|uterus|rectum|bowel|colon|brain|heart|thyroid|spinal cord/i,
  ],
];

/** The picker section a label name belongs to. */
export function sectionOf(name: string): SectionName {
  return RULES.find(([, pattern]) => pattern.test(name))?.[0] ?? 'Other';
}

/**
 * True when a class prompt for `index` is something the engine can answer: it is in
 * `supported_classes`, or it is a group all of whose members are (the server's own rule).
 */
export function isClassSelectable(index: number, supported: ReadonlySet<number>): boolean {
  if (supported.has(index)) return true;
  const members = LABEL_GROUPS.get(index);
  return members !== undefined && members.every((m) => supported.has(m));
}

/** True when `index` may carry points: any label but the groups, which the API refuses with points. */
export function acceptsPoints(index: number): boolean {
  return !LABEL_GROUPS.has(index) && index !== 0 && index !== NOT_COMPUTED;
}

export interface PickerEntry {
  index: number;
  name: string;
  section: SectionName;
  selectable: boolean;
  /** Members' names when the label is a group. */
  members?: string[];
}

/**
 * The picker's entries from `/v1/vista3d/info` labels, filtered by a search text (case-insensitive
 * substring of the name, or the exact index), grouped by section in {@link SECTIONS} order and by
 * index inside a section. Background (0) is never offered.
 */
export function pickerEntries(
  labels: Readonly<Record<string, string>>,
  supported: ReadonlySet<number>,
  search = '',
): Map<SectionName, PickerEntry[]> {
  const needle = search.trim().toLowerCase();
  const out = new Map<SectionName, PickerEntry[]>(SECTIONS.map((s) => [s, []]));
  const entries = Object.entries(labels)
    .map(([key, name]) => ({ index: Number(key), name }))
    .filter(({ index }) => Number.isInteger(index) && index > 0)
    .sort((a, b) => a.index - b.index);
  for (const { index, name } of entries) {
    if (needle && !name.toLowerCase().includes(needle) && String(index) !== needle) continue;
    const members = LABEL_GROUPS.get(index)?.map((m) => labels[String(m)] ?? String(m));
    const section = sectionOf(name);
    out.get(section)?.push({ index, name, section, selectable: isClassSelectable(index, supported), ...(members ? { members } : {}) });
  }
  for (const [section, list] of out) if (list.length === 0) out.delete(section);
  return out;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, n) => from + n);
}
