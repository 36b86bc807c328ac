/**
 * What each segment of a Voxgate SEG says about its label: the Segment Description macro
 * (PS3.3 C.8.20.2) filled from the VISTA3D code table (assets/vista3d-segment-codes.json, copied
 * from spec/vista3d-segment-codes.json; its sources are listed in spec/vista3d-segment-codes.md).
 *
 * Fallbacks (docs/dicom-seg.md):
 * - label 16 "prostate or uterus" has no type code in the table: the patient's sex picks SCT
 *   41216001 Prostate (M) or 35039007 Uterus (F), the two candidates the table names; for any other
 *   or no sex, the generic SCT 85756007 Tissue.
 * - labels outside the table (zero-shot 133–254, anything else): category SCT 91723000 Anatomical
 *   Structure, type SCT 85756007 Tissue, and the name the caller gives (else `label <n>`).
 * - no colour in the table (label 16, zero-shot labels): RecommendedDisplayCIELabValue is left out
 *   (it is Type 3), so viewers choose.
 * @module
 */
import { readFileSync } from 'node:fs';
import { VoxgateError } from '../errors.js';
import { checkText } from './seg-values.js';

/** A coded concept as the Code Sequence macro writes it (PS3.3 Table 8.8-1). */
export interface CodedConcept {
  readonly CodeValue: string;
  readonly CodingSchemeDesignator: string;
  readonly CodeMeaning: string;
}

/** The coded description of one label, before it gets a segment number. */
export interface LabelDescription {
  /** The voxel value in the label map. */
  readonly label: number;
  /** SegmentLabel: the VISTA3D name, or the caller's name for other labels. */
  readonly name: string;
  readonly category: CodedConcept;
  readonly type: CodedConcept;
  /** SegmentedPropertyTypeModifierCodeSequence (laterality). */
  readonly typeModifier?: CodedConcept;
  /** AnatomicRegionSequence (where a lesion or vessel lies). */
  readonly anatomicRegion?: CodedConcept;
  /** AnatomicRegionModifierSequence (laterality of the region, e.g. kidney cysts). */
  readonly anatomicRegionModifier?: CodedConcept;
  /** RecommendedDisplayCIELabValue: L*, a*, b* scaled to 0–65535 (PS3.3 C.10.7.1.1). */
  readonly cielab?: readonly [number, number, number];
  /** How the codes were chosen: from the table, from the patient's sex (label 16), or generic. */
  readonly codes: 'vista3d' | 'patient-sex' | 'generic';
}

interface CodeTableEntry {
  name: string;
  category: CodedConcept;
  type: CodedConcept | null;
  modifier: CodedConcept | null;
  modifier_sequence: 'SegmentedPropertyTypeModifierCodeSequence' | 'AnatomicRegionModifierSequence' | null;
  anatomic_region: CodedConcept | null;
  cielab: [number, number, number] | null;
}

/** assets/ sits two folders above this module both in src/dicom and in dist/dicom. */
const CODE_TABLE: ReadonlyMap<number, CodeTableEntry> = new Map(
  Object.entries(
    JSON.parse(readFileSync(new URL('../../assets/vista3d-segment-codes.json', import.meta.url), 'utf8')) as Record<string, CodeTableEntry>,
  ).map(([key, entry]) => [Number(key), entry]),
);

/** SNOMED CT and DICOM concepts the writer uses besides the table. */
export const Concepts = {
  AnatomicalStructure: { CodeValue: '91723000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' },
  Tissue: { CodeValue: '85756007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Tissue' },
  Prostate: { CodeValue: '41216001', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Prostate' },
  Uterus: { CodeValue: '35039007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Uterus' },
  /** CID 7162: the default algorithm family. */
  ArtificialIntelligence: { CodeValue: '123110', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Artificial Intelligence' },
  /** CID 7162, for rule-based engines such as `classic`. */
  MorphologicalOperations: { CodeValue: '123104', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Morphological Operations' },
  /** CID 7203 (DerivationCodeSequence). */
  Segmentation: { CodeValue: '113076', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Segmentation' },
  /** CID 7202 (PurposeOfReferenceCodeSequence of the source images). */
  SourceImageForImageProcessingOperation: { CodeValue: '121322', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Source image for image processing operation' },
} as const satisfies Record<string, CodedConcept>;

/** VISTA3D's "prostate or uterus": a label whose anatomy depends on the patient. */
const PROSTATE_OR_UTERUS = 16;

export interface DescribeOptions {
  /** Names for labels (zero-shot ones above all); they replace the VISTA3D name as SegmentLabel. */
  readonly labelNames?: ReadonlyMap<number, string> | Readonly<Record<number, string>>;
  /** PatientSex of the source (M, F, O or empty). */
  readonly patientSex?: string;
}

/**
 * The coded description of label `label`.
 * @example
 * describeLabel(5).typeModifier; // { CodeValue: '24028007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Right' }
 */
export function describeLabel(label: number, options: DescribeOptions = {}): LabelDescription {
  const given = nameFrom(options.labelNames, label);
  const entry = CODE_TABLE.get(label);
  if (!entry) {
    const name = checkText(`The name of label ${label}`, given ?? `label ${label}`, 64);
    return { label, name, category: Concepts.AnatomicalStructure, type: Concepts.Tissue, codes: 'generic' };
  }
  const name = checkText(`The name of label ${label}`, given ?? entry.name, 64);
  let type = entry.type;
  let codes: LabelDescription['codes'] = 'vista3d';
  if (type === null) {
    if (label !== PROSTATE_OR_UTERUS) {
      throw new VoxgateError('VXG_ERR_SEG_INVALID_OPTION', `Label ${label} (${entry.name}) has no type code in the VISTA3D code table.`);
    }
    const sex = options.patientSex?.trim().toUpperCase();
    type = sex === 'M' ? Concepts.Prostate : sex === 'F' ? Concepts.Uterus : Concepts.Tissue;
    codes = sex === 'M' || sex === 'F' ? 'patient-sex' : 'generic';
  }
  const modifierInRegion = entry.modifier_sequence === 'AnatomicRegionModifierSequence';
  return {
    label,
    name,
    category: entry.category,
    type,
    ...(entry.modifier && !modifierInRegion ? { typeModifier: entry.modifier } : {}),
    ...(entry.anatomic_region ? { anatomicRegion: entry.anatomic_region } : {}),
    ...(entry.modifier && modifierInRegion ? { anatomicRegionModifier: entry.modifier } : {}),
    ...(entry.cielab ? { cielab: entry.cielab } : {}),
    codes,
  };
}

function nameFrom(names: DescribeOptions['labelNames'], label: number): string | undefined {
  if (!names) return undefined;
  if (names instanceof Map) return names.get(label);
  return (names as Readonly<Record<number, string>>)[label];
}

const LABEL_BY_NAME: ReadonlyMap<string, number> = new Map([...CODE_TABLE].map(([label, entry]) => [entry.name.toLowerCase(), label]));

/**
 * The VISTA3D label whose name is `name` (case-insensitive), as the code table spells it.
 * @example
 * labelOfVista3dName('Liver'); // 1
 */
export function labelOfVista3dName(name: string): number | undefined {
  return LABEL_BY_NAME.get(name.trim().toLowerCase());
}
