/**
 * An ACR / Clara inference request after parsing (spec/acr-api.md, "Request"): property names and
 * enum values in one spelling, `details` appended to `inputs`, aliases resolved, URIs with their
 * trailing `/`. This is what a job stores and what retrievers and exporters read; the HTTP parser
 * (src/api/acr/parse-request.ts) is the only producer.
 * @module
 */

/** How a DICOMweb or FHIR server wants to be authenticated. */
export const AuthTypes = ['None', 'Basic', 'Bearer'] as const;
export type AuthType = (typeof AuthTypes)[number];

export const InputTypes = ['DICOM_UID', 'DICOM_PATIENT_ID', 'ACCESSION_NUMBER', 'FHIR_RESOURCE'] as const;
export type InputType = (typeof InputTypes)[number];

export const FhirFormats = ['Json', 'Xml'] as const;
export type FhirFormat = (typeof FhirFormats)[number];

export const FhirVersions = ['R1', 'R2', 'R3', 'R4'] as const;
export type FhirVersion = (typeof FhirVersions)[number];

export const DimseRetrieveMethods = ['C-MOVE', 'C-GET'] as const;
export type DimseRetrieveMethod = (typeof DimseRetrieveMethods)[number];

/** One `instances` entry: the SOP Instance UIDs to take from a series. */
export interface RequestedInstance {
  readonly sopInstanceUids: readonly string[];
}

export interface RequestedSeries {
  readonly seriesInstanceUid: string;
  /** Absent: the whole series. */
  readonly instances?: readonly RequestedInstance[];
}

export interface RequestedStudy {
  readonly studyInstanceUid: string;
  /** Absent: the whole study. */
  readonly series?: readonly RequestedSeries[];
}

export interface FhirResourceRef {
  readonly resourceType: string;
  readonly id: string;
}

/** One entry of `inputMetadata.inputs` (or the `details` object). */
export type InputDetails =
  | { readonly type: 'DICOM_UID'; readonly studies: readonly RequestedStudy[] }
  | { readonly type: 'DICOM_PATIENT_ID'; readonly patientId: string }
  | { readonly type: 'ACCESSION_NUMBER'; readonly accessionNumbers: readonly string[] }
  | {
      readonly type: 'FHIR_RESOURCE';
      readonly resources: readonly FhirResourceRef[];
      readonly fhirFormat: FhirFormat;
      readonly fhirVersion: FhirVersion;
    };

/** A DICOMweb service or FHIR server. `uri` always ends with `/`. */
export interface HttpResource {
  readonly interface: 'DICOMweb' | 'FHIR';
  readonly uri: string;
  readonly authType: AuthType;
  /** Basic: base64 of `user:password`; Bearer: the token. Never logged, never in a status. */
  readonly authId?: string;
  readonly operations: readonly string[];
}

/** A DICOM node reached over DIMSE (Voxgate's extension). */
export interface DimseResource {
  readonly interface: 'DIMSE';
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
  /** Voxgate's AE title towards this node; the configured `aeTitle` when absent. */
  readonly callingAeTitle?: string;
  readonly retrieve: DimseRetrieveMethod;
}

/**
 * Instances Voxgate's DICOM node received (src/node/): one group of C-STOREs to one of its AE
 * titles, kept under `<dataDir>/dicom-node/groups/<groupId>/` until the job takes them. Only a
 * source, and only made by the node, never by the HTTP parser.
 */
export interface DicomNodeResource {
  readonly interface: 'DicomNode';
  /** A UUID the node made: the only part of the folder path. */
  readonly groupId: string;
  /** Who sent the instances. */
  readonly callingAeTitle: string;
  /** The AE title they were sent to. */
  readonly calledAeTitle: string;
}

/** A data source (`inputResources` minus the Algorithm entry) or a destination (`outputResources`). */
export type DataResource = HttpResource | DimseResource | DicomNodeResource;

/** A parsed, valid inference request. */
export interface AcrRequest {
  readonly transactionId: string;
  /** 0–255; higher runs first. */
  readonly priority: number;
  /** The configured pipeline the Algorithm entry's `id` selects. */
  readonly pipeline: string;
  readonly algorithm: { readonly id?: string; readonly name?: string };
  readonly inputs: readonly InputDetails[];
  readonly sources: readonly DataResource[];
  readonly destinations: readonly DataResource[];
}

export const DEFAULT_PRIORITY = 128;

/** The spec's priority names: 0–127 Lower, 128 Normal, 129–254 Higher, 255 Immediate. */
export function priorityName(priority: number): 'Lower' | 'Normal' | 'Higher' | 'Immediate' {
  if (priority >= 255) return 'Immediate';
  if (priority > DEFAULT_PRIORITY) return 'Higher';
  if (priority === DEFAULT_PRIORITY) return 'Normal';
  return 'Lower';
}

/**
 * A resource as it may appear in a status message or a log: interface and address, never the
 * credential (`authId`, or user:password inside the URI).
 * @example
 * describeResource({ interface: 'DICOMweb', uri: 'https://u:p@pacs/dicom-web/', authType: 'None', operations: [] })
 * // → 'DICOMweb https://pacs/dicom-web/'
 */
export function describeResource(resource: DataResource): string {
  if (resource.interface === 'DIMSE') return `DIMSE ${resource.aeTitle}@${resource.host}:${resource.port}`;
  if (resource.interface === 'DicomNode') return `DICOM node ${resource.calledAeTitle} (sent by ${resource.callingAeTitle})`;
  return `${resource.interface} ${redactUri(resource.uri)}`;
}

function redactUri(uri: string): string {
  try {
    const url = new URL(uri);
    url.username = '';
    url.password = '';
    url.search = '';
    return url.toString();
  } catch {
    return uri.replace(/\/\/[^/@]*@/, '//');
  }
}
