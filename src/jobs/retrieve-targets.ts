/**
 * The request's DICOM inputs as retrieval targets (study, series or instance level, as the spec's
 * "Processing" section says), with the unit key a retriever records each one under, so a resumed
 * job skips the targets it completed. Patient and accession inputs become study targets once the
 * source has been queried (QIDO-RS or C-FIND).
 * @module
 */
import { createHash } from 'node:crypto';
import type { InputDetails } from './request.js';

export interface RetrieveTarget {
  readonly study: string;
  readonly series?: string;
  readonly instance?: string;
}

/** A study search key: what QIDO-RS or C-FIND resolves to studies. */
export type StudyQuery = { readonly PatientID: string } | { readonly AccessionNumber: string };

/** Targets named by UID, and the study queries still to run. */
export function targetsOf(inputs: readonly InputDetails[]): { targets: RetrieveTarget[]; queries: StudyQuery[] } {
  const targets: RetrieveTarget[] = [];
  const queries: StudyQuery[] = [];
  for (const input of inputs) {
    switch (input.type) {
      case 'DICOM_UID':
        for (const study of input.studies) {
          if (!study.series) targets.push({ study: study.studyInstanceUid });
          else {
            for (const series of study.series) {
              if (!series.instances) targets.push({ study: study.studyInstanceUid, series: series.seriesInstanceUid });
              else {
                for (const instance of series.instances) {
                  for (const uid of instance.sopInstanceUids) targets.push({ study: study.studyInstanceUid, series: series.seriesInstanceUid, instance: uid });
                }
              }
            }
          }
        }
        break;
      case 'DICOM_PATIENT_ID':
        queries.push({ PatientID: input.patientId });
        break;
      case 'ACCESSION_NUMBER':
        for (const accession of input.accessionNumbers) queries.push({ AccessionNumber: accession });
        break;
      case 'FHIR_RESOURCE':
        break;
    }
  }
  return { targets, queries };
}

/** Targets without repeats (a study asked for twice, by UID and through a patient query). */
export function uniqueTargets(targets: readonly RetrieveTarget[]): RetrieveTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = `${t.study}/${t.series ?? ''}/${t.instance ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The unit key of a target at a source. Hashed: it is stored with the job and must not grow with
 * long URIs (it holds no patient data either way: UIDs only).
 */
export function targetUnit(sourceKey: string, target: RetrieveTarget): string {
  const digest = createHash('sha256').update(sourceKey).digest('hex').slice(0, 16);
  return `${digest}:${target.study}/${target.series ?? '*'}/${target.instance ?? '*'}`;
}
