/**
 * The DICOM node's configuration entries, in the field names of the Clara DICOM Adapter / MONAI
 * Informatics Gateway configuration API (`name`, `aeTitle`, `hostIp`, `port`, `grouping`, `timeout`,
 * `workflows`), so that their clients work unchanged:
 * - an **AE title** Voxgate answers to (the called AE), mapped to a pipeline and to destinations;
 * - a **source**: a calling AE title and the host it may call from;
 * - a **destination**: a DIMSE node (`aeTitle`, `hostIp`, `port`) or a DICOMweb service (`uri`).
 *
 * Unknown fields (MIG's `pluginAssemblies`, `ignoredSopClasses` …) are accepted and dropped.
 * @module
 */
import { z } from 'zod';
import { isAeTitle } from '../dicom/net/dimse-association.js';
import type { NodeEntryKind } from '../jobs/job-store.js';
import { AuthTypes } from '../jobs/request.js';
import type { DataResource } from '../jobs/request.js';

/** PS3.6 tags the instances of one job share: (0020,000D) Study or (0020,000E) Series Instance UID. */
export const Groupings = { study: '0020,000D', series: '0020,000E' } as const;
export type Grouping = (typeof Groupings)[keyof typeof Groupings];

const name = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit');
const aeTitle = z
  .string()
  .refine(isAeTitle, '1–16 characters, no backslash or control characters')
  .transform((v) => v.trim());
const hostIp = z.string().min(1).max(253);

export const AeTitleEntitySchema = z
  .object({
    name,
    aeTitle,
    /** The pipeline (an ACR Algorithm id of the configuration) the instances go through. */
    pipeline: z.string().min(1).optional(),
    /** MIG's name for what runs: the first one is taken as the pipeline. */
    workflows: z.array(z.string().min(1)).optional(),
    grouping: z
      .string()
      .transform((v) => v.toUpperCase())
      .pipe(z.enum([Groupings.study, Groupings.series, 'STUDY', 'SERIES']))
      .transform((v): Grouping => (v === 'STUDY' ? Groupings.study : v === 'SERIES' ? Groupings.series : v))
      .default(Groupings.study),
    /** Seconds without a new instance after which the group becomes a job. */
    timeout: z.number().int().min(1).max(3600).default(5),
    /** Names of configured destinations the results are sent to. */
    destinations: z.array(name).default([]),
  })
  .transform(({ workflows, pipeline, ...rest }) => ({ ...rest, pipeline: pipeline ?? workflows?.[0] ?? 'vista3d' }));
export type AeTitleEntity = z.output<typeof AeTitleEntitySchema>;

export const SourceEntitySchema = z.object({ name, aeTitle, hostIp });
export type SourceEntity = z.output<typeof SourceEntitySchema>;

const DimseDestinationSchema = z.object({
  name,
  interface: z.literal('DIMSE').default('DIMSE'),
  aeTitle,
  hostIp,
  port: z.number().int().min(1).max(65535),
});
const DicomwebDestinationSchema = z.object({
  name,
  interface: z.literal('DICOMweb'),
  uri: z.url({ protocol: /^https?$/ }).transform((v) => (v.endsWith('/') ? v : `${v}/`)),
  authType: z.enum(AuthTypes).default('None'),
  /** Basic: base64 of user:password; Bearer: the token. Stored, never shown by the API. */
  authId: z.string().min(1).optional(),
});
export const DestinationEntitySchema = z.union([DicomwebDestinationSchema, DimseDestinationSchema]);
export type DestinationEntity = z.output<typeof DestinationEntitySchema>;

export interface NodeEntities {
  'ae-title': AeTitleEntity;
  source: SourceEntity;
  destination: DestinationEntity;
}

export const ENTITY_SCHEMAS = { 'ae-title': AeTitleEntitySchema, source: SourceEntitySchema, destination: DestinationEntitySchema } as const;

/** What must be unique within a kind besides the name, in words a 409 message can show. */
export function identityOf<K extends NodeEntryKind>(kind: K, entity: NodeEntities[K]): string {
  switch (kind) {
    case 'ae-title':
      return `AE title "${(entity as AeTitleEntity).aeTitle}"`;
    case 'source': {
      const source = entity as SourceEntity;
      return `AE title "${source.aeTitle}" at host ${source.hostIp.toLowerCase()}`;
    }
    default: {
      const destination = entity as DestinationEntity;
      return destination.interface === 'DICOMweb' ? `URI ${destination.uri}` : `AE title "${destination.aeTitle}" at ${destination.hostIp.toLowerCase()}:${destination.port}`;
    }
  }
}

/** The entity as the API answers it: a destination's credential never leaves the server. */
export function publicView<K extends NodeEntryKind>(kind: K, entity: NodeEntities[K]): Record<string, unknown> {
  if (kind === 'ae-title') {
    const ae = entity as AeTitleEntity;
    // `workflows` too, for MIG clients that read it.
    return { ...ae, workflows: [ae.pipeline] };
  }
  if (kind === 'destination' && (entity as DestinationEntity).interface === 'DICOMweb') {
    const shown: Record<string, unknown> = { ...entity };
    delete shown.authId;
    return shown;
  }
  return { ...entity };
}

/** A destination as a job's export target. */
export function destinationResource(destination: DestinationEntity, callingAeTitle: string): DataResource {
  if (destination.interface === 'DICOMweb') {
    return {
      interface: 'DICOMweb',
      uri: destination.uri,
      authType: destination.authType,
      ...(destination.authId ? { authId: destination.authId } : {}),
      operations: ['STORE'],
    };
  }
  return { interface: 'DIMSE', aeTitle: destination.aeTitle, host: destination.hostIp, port: destination.port, callingAeTitle, retrieve: 'C-MOVE' };
}
