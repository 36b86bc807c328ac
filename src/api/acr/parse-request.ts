/**
 * The ACR / Clara inference request body → `AcrRequest`, with every validation message of
 * spec/acr-api.md worded and ordered as the reference products (MONAI Deploy Informatics Gateway's
 * `InferenceRequest.Validate`): transactionId, the algorithm, the input resources, the output
 * resources, then the input metadata; all collected, joined by one space.
 *
 * Leniency the spec asks for: property names match case-insensitively, enum values too; `details`
 * is appended to `inputs`; `baseUri` = `uri`, `apiKey` = `authID`; a missing trailing `/` is added to
 * URIs. A value of the wrong JSON type counts as missing (so it gets the spec's message), except
 * `priority`, which is 400.
 * @module
 */
import { findPipeline } from '../../jobs/pipelines.js';
import type { Pipeline } from '../../jobs/pipelines.js';
import type {
  AcrRequest,
  AuthType,
  DataResource,
  DimseRetrieveMethod,
  FhirFormat,
  FhirResourceRef,
  FhirVersion,
  InputDetails,
  RequestedSeries,
  RequestedStudy,
} from '../../jobs/request.js';
import { AuthTypes, DEFAULT_PRIORITY, DimseRetrieveMethods, FhirFormats, FhirVersions, InputTypes } from '../../jobs/request.js';

export type ParseOutcome =
  | { readonly ok: true; readonly request: AcrRequest }
  /** 400: not an object, or a bad priority; 422: the spec's validation messages, joined by one space. */
  | { readonly ok: false; readonly status: 400 | 422; readonly detail: string };

/** The spec's messages, character for character (clients match on them). */
export const AcrMessages = {
  transactionIdRequired: "'transactionId' is required.",
  noInputResources: "No 'inputResources' specified.",
  algorithmCount:
    "No algorithm defined or more than one algorithms defined in 'inputResources'.  'inputResources' must include one algorithm/pipeline for the inference request.",
  noInputMetadata: 'Request has no `inputMetadata` defined. At least one `inputs` or `inputMetadata` required.',
  noStudies: 'Request type is set to `DICOM_UID` but no `studies` defined.',
  emptyStudyUid: '`StudyInstanceUID` cannot be empty.',
  emptySeriesUid: '`SeriesInstanceUID` cannot be empty.',
  emptySopUid: '`SOPInstanceUID` cannot be empty.',
  noPatientId: 'Request type is set to `DICOM_PATIENT_ID` but `PatientID` is not defined.',
  noAccessionNumber: 'Request type is set to `ACCESSION_NUMBER` but no `accessionNumber` defined.',
  noFhirResources: 'Request type is set to `FHIR_RESOURCE` but no FHIR `resources` defined.',
  emptyFhirType: 'A FHIR resource type cannot be empty.',
  unsupportedType: (type: string) => `'inputMetadata' does not yet support type '${type}'.`,
  authIdMissing: (source: ResourceList, authType: string) =>
    `One of the '${source}' has authType of '${authType}' but does not include a valid value for 'authId'`,
  uriNotWellFormed: (uri: string) => `The provided URI '${uri}' is not well formed.`,
  fhirUriNotWellFormed: (uri: string, source: ResourceList) => `The provided URI '${uri}' in \`${source}\` is not well formed.`,
  // Voxgate's additions.
  unknownPipeline: (id: string, known: readonly string[]) =>
    `The algorithm id '${id}' names no pipeline configured on this server (configured: ${known.join(', ')}).`,
  unknownInterface: (source: ResourceList, value: string) =>
    `One of the '${source}' has interface '${value}'; use Algorithm, DICOMweb, DIMSE or FHIR.`,
  unknownAuthType: (source: ResourceList, value: string) => `One of the '${source}' has authType of '${value}'; use None, Basic or Bearer.`,
  dimseMissing: (source: ResourceList, fields: readonly string[]) =>
    `One of the '${source}' has interface 'DIMSE' but does not include a valid ${fields.map((f) => `'${f}'`).join(' and ')}.`,
  dimseRetrieve: (source: ResourceList, value: string) => `One of the '${source}' has interface 'DIMSE' with retrieve '${value}'; use C-MOVE or C-GET.`,
  fhirFormat: (value: string) => `'fhirFormat' '${value}' is not supported; use Json or Xml.`,
  fhirVersion: (value: string) => `'fhirVersion' '${value}' is not supported; use R1, R2, R3 or R4.`,
  priority: "'priority' must be an integer from 0 to 255, or a string holding one.",
  notAnObject: 'The request body must be a JSON object.',
} as const;

type ResourceList = 'inputResources' | 'outputResources';

/** An object's properties by lower-cased name (the last spelling wins, as case-insensitive JSON readers do). */
type Fields = ReadonlyMap<string, unknown>;

function fieldsOf(value: unknown): Fields | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return new Map(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
}

function text(fields: Fields | undefined, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = fields?.get(name);
    if (typeof value === 'string') return value;
  }
  return undefined;
}

function list(fields: Fields | undefined, name: string): unknown[] | undefined {
  const value = fields?.get(name);
  return Array.isArray(value) ? value : undefined;
}

function blank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}

/** An enum value matched case-insensitively: the canonical spelling, or undefined. */
function enumValue<T extends string>(values: readonly T[], given: string): T | undefined {
  const folded = given.trim().toLowerCase();
  return values.find((v) => v.toLowerCase() === folded);
}

/** RFC 3986 characters (unreserved, reserved, and %); .NET's IsWellFormedUriString refuses the rest unescaped. */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;

/** An absolute http(s) URI written correctly (the only kind a DICOMweb or FHIR client can use). */
export function isWellFormedHttpUri(uri: string | undefined): boolean {
  if (uri === undefined || !URI_CHARACTERS.test(uri) || /%(?![0-9A-Fa-f]{2})/.test(uri)) return false;
  try {
    const url = new URL(uri);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function withSlash(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** 0–255 from a number or a numeric string; undefined when it is neither. */
function parsePriority(value: unknown): number | undefined {
  if (value === undefined || value === null) return DEFAULT_PRIORITY;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\+?\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 255 ? n : undefined;
}

/**
 * Parses and validates a request body (already JSON-decoded).
 * @example
 * const outcome = parseAcrRequest(body, pipelineTable(config.pipelines));
 * if (!outcome.ok) reply.code(outcome.status).send(problem(outcome.status, outcome.detail));
 */
export function parseAcrRequest(body: unknown, pipelines: ReadonlyMap<string, Pipeline>): ParseOutcome {
  const root = fieldsOf(body);
  if (!root) return { ok: false, status: 400, detail: AcrMessages.notAnObject };
  const priority = parsePriority(root.get('priority'));
  if (priority === undefined) return { ok: false, status: 400, detail: AcrMessages.priority };

  const errors: string[] = [];
  const transactionId = text(root, 'transactionid');
  if (blank(transactionId)) errors.push(AcrMessages.transactionIdRequired);

  const inputResources = (list(root, 'inputresources') ?? []).map(resourceOf);
  const algorithms = inputResources.filter((r) => r.kind === 'Algorithm');
  let pipeline: Pipeline | undefined;
  let algorithm: AcrRequest['algorithm'] = {};
  if (algorithms.length !== 1) errors.push(AcrMessages.algorithmCount);
  else {
    const details = algorithms[0].details;
    const id = blank(text(details, 'id')) ? undefined : text(details, 'id');
    const name = text(details, 'name');
    algorithm = { ...(id === undefined ? {} : { id }), ...(name === undefined ? {} : { name }) };
    pipeline = findPipeline(pipelines, id ?? 'vista3d');
    if (!pipeline) errors.push(AcrMessages.unknownPipeline(id ?? 'vista3d', [...pipelines.keys()]));
  }

  const sources = collectResources(inputResources, 'inputResources', errors, true);
  const outputs = (list(root, 'outputresources') ?? []).map(resourceOf);
  const destinations = collectResources(outputs, 'outputResources', errors, false);
  const inputs = collectInputs(fieldsOf(root.get('inputmetadata')), errors);

  if (errors.length > 0 || !pipeline || transactionId === undefined) return { ok: false, status: 422, detail: errors.join(' ') };
  return {
    ok: true,
    request: { transactionId, priority, pipeline: pipeline.id, algorithm, inputs, sources, destinations },
  };
}

interface RawResource {
  readonly kind: 'Algorithm' | 'DICOMweb' | 'DIMSE' | 'FHIR' | 'unknown';
  readonly given: string;
  readonly details: Fields | undefined;
}

const INTERFACES = ['Algorithm', 'DICOMweb', 'DIMSE', 'FHIR'] as const;

function resourceOf(entry: unknown): RawResource {
  const fields = fieldsOf(entry);
  const given = text(fields, 'interface') ?? '';
  return { kind: enumValue(INTERFACES, given) ?? 'unknown', given, details: fieldsOf(fields?.get('connectiondetails')) };
}

function collectResources(raw: readonly RawResource[], source: ResourceList, errors: string[], isInput: boolean): DataResource[] {
  if (isInput && !raw.some((r) => r.kind !== 'Algorithm' && r.kind !== 'unknown')) errors.push(AcrMessages.noInputResources);
  const out: DataResource[] = [];
  for (const resource of raw) {
    switch (resource.kind) {
      case 'Algorithm':
        break;
      case 'unknown':
        errors.push(AcrMessages.unknownInterface(source, resource.given));
        break;
      case 'DICOMweb':
      case 'FHIR': {
        const parsed = httpResource(resource.kind, resource.details, source, errors);
        if (parsed) out.push(parsed);
        break;
      }
      case 'DIMSE': {
        const parsed = dimseResource(resource.details, source, errors);
        if (parsed) out.push(parsed);
        break;
      }
    }
  }
  return out;
}

function httpResource(kind: 'DICOMweb' | 'FHIR', details: Fields | undefined, source: ResourceList, errors: string[]): DataResource | undefined {
  const uri = text(details, 'uri', 'baseuri');
  const authId = text(details, 'authid', 'apikey');
  const givenAuth = text(details, 'authtype');
  const authType: AuthType | undefined = givenAuth === undefined || givenAuth.trim() === '' ? 'None' : enumValue(AuthTypes, givenAuth);
  const before = errors.length;
  if (authType === undefined) errors.push(AcrMessages.unknownAuthType(source, givenAuth ?? ''));
  if (kind === 'DICOMweb') {
    if (authType !== undefined && authType !== 'None' && blank(authId)) errors.push(AcrMessages.authIdMissing(source, authType));
    if (!isWellFormedHttpUri(uri)) errors.push(AcrMessages.uriNotWellFormed(uri ?? ''));
  } else if (!isWellFormedHttpUri(uri)) errors.push(AcrMessages.fhirUriNotWellFormed(uri ?? '', source));
  if (errors.length > before || uri === undefined || authType === undefined) return undefined;
  const operations = (list(details, 'operations') ?? []).filter((o): o is string => typeof o === 'string');
  return { interface: kind, uri: withSlash(uri), authType, ...(blank(authId) ? {} : { authId }), operations };
}

const AE_TITLE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

function dimseResource(details: Fields | undefined, source: ResourceList, errors: string[]): DataResource | undefined {
  const aeTitle = text(details, 'aetitle')?.trim();
  const host = text(details, 'host')?.trim();
  const portValue = details?.get('port');
  const port = typeof portValue === 'number' ? portValue : typeof portValue === 'string' && /^\s*\d+\s*$/.test(portValue) ? Number(portValue) : NaN;
  const missing: string[] = [];
  if (!aeTitle || !AE_TITLE.test(aeTitle)) missing.push('aeTitle');
  if (!host) missing.push('host');
  if (!Number.isInteger(port) || port < 1 || port > 65535) missing.push('port');
  if (missing.length > 0) errors.push(AcrMessages.dimseMissing(source, missing));
  const givenRetrieve = text(details, 'retrieve');
  const retrieve: DimseRetrieveMethod | undefined = givenRetrieve === undefined ? 'C-MOVE' : enumValue(DimseRetrieveMethods, givenRetrieve);
  if (retrieve === undefined) errors.push(AcrMessages.dimseRetrieve(source, givenRetrieve ?? ''));
  const calling = text(details, 'callingaetitle')?.trim();
  if (missing.length > 0 || retrieve === undefined || !aeTitle || !host) return undefined;
  return { interface: 'DIMSE', aeTitle, host, port, retrieve, ...(calling ? { callingAeTitle: calling } : {}) };
}

function collectInputs(metadata: Fields | undefined, errors: string[]): InputDetails[] {
  const entries: unknown[] = [...(list(metadata, 'inputs') ?? [])];
  const details = metadata?.get('details');
  if (details !== undefined && details !== null) entries.push(details);
  if (entries.length === 0) {
    errors.push(AcrMessages.noInputMetadata);
    return [];
  }
  const out: InputDetails[] = [];
  for (const entry of entries) {
    const parsed = inputOf(fieldsOf(entry), errors);
    if (parsed) out.push(parsed);
  }
  return out;
}

function inputOf(fields: Fields | undefined, errors: string[]): InputDetails | undefined {
  const given = text(fields, 'type');
  const type = given === undefined ? undefined : enumValue(InputTypes, given);
  const before = errors.length;
  switch (type) {
    case 'DICOM_UID': {
      const studies = studiesOf(list(fields, 'studies'), errors);
      return errors.length > before ? undefined : { type, studies };
    }
    case 'DICOM_PATIENT_ID': {
      const patientId = text(fields, 'patientid');
      if (blank(patientId) || patientId === undefined) {
        errors.push(AcrMessages.noPatientId);
        return undefined;
      }
      return { type, patientId };
    }
    case 'ACCESSION_NUMBER': {
      const value = fields?.get('accessionnumber');
      const numbers = (Array.isArray(value) ? value : typeof value === 'string' ? [value] : []).filter(
        (n): n is string => typeof n === 'string' && n.trim() !== '',
      );
      if (numbers.length === 0) {
        errors.push(AcrMessages.noAccessionNumber);
        return undefined;
      }
      return { type, accessionNumbers: numbers };
    }
    case 'FHIR_RESOURCE':
      return fhirInput(fields, errors);
    case undefined:
      // MIG prints the enum's default, "Unknown", for a missing type.
      errors.push(AcrMessages.unsupportedType(given ?? 'Unknown'));
      return undefined;
  }
}

function studiesOf(raw: unknown[] | undefined, errors: string[]): RequestedStudy[] {
  if (!raw || raw.length === 0) {
    errors.push(AcrMessages.noStudies);
    return [];
  }
  return raw.map((entry) => {
    const study = fieldsOf(entry);
    const studyInstanceUid = text(study, 'studyinstanceuid');
    if (blank(studyInstanceUid)) errors.push(AcrMessages.emptyStudyUid);
    const series = list(study, 'series');
    return { studyInstanceUid: studyInstanceUid?.trim() ?? '', ...(series ? { series: series.map((s) => seriesOf(s, errors)) } : {}) };
  });
}

function seriesOf(entry: unknown, errors: string[]): RequestedSeries {
  const series = fieldsOf(entry);
  const seriesInstanceUid = text(series, 'seriesinstanceuid');
  if (blank(seriesInstanceUid)) errors.push(AcrMessages.emptySeriesUid);
  const instances = list(series, 'instances');
  return {
    seriesInstanceUid: seriesInstanceUid?.trim() ?? '',
    ...(instances
      ? {
          instances: instances.map((i) => {
            const value = fieldsOf(i)?.get('sopinstanceuid');
            const uids = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
            if (uids.length === 0 || uids.some((u) => typeof u !== 'string' || u.trim() === '')) errors.push(AcrMessages.emptySopUid);
            return { sopInstanceUids: uids.filter((u): u is string => typeof u === 'string').map((u) => u.trim()) };
          }),
        }
      : {}),
  };
}

function fhirInput(fields: Fields | undefined, errors: string[]): InputDetails | undefined {
  const before = errors.length;
  const raw = list(fields, 'resources');
  const resources: FhirResourceRef[] = [];
  if (!raw || raw.length === 0) errors.push(AcrMessages.noFhirResources);
  else {
    for (const entry of raw) {
      const resource = fieldsOf(entry);
      const resourceType = text(resource, 'resourcetype', 'type');
      if (blank(resourceType) || resourceType === undefined) errors.push(AcrMessages.emptyFhirType);
      else resources.push({ resourceType: resourceType.trim(), id: text(resource, 'id')?.trim() ?? '' });
    }
  }
  const givenFormat = text(fields, 'fhirformat');
  const fhirFormat: FhirFormat | undefined = givenFormat === undefined ? 'Json' : enumValue(FhirFormats, givenFormat);
  if (fhirFormat === undefined) errors.push(AcrMessages.fhirFormat(givenFormat ?? ''));
  const givenVersion = text(fields, 'fhirversion');
  const fhirVersion: FhirVersion | undefined = givenVersion === undefined ? 'R3' : enumValue(FhirVersions, givenVersion);
  if (fhirVersion === undefined) errors.push(AcrMessages.fhirVersion(givenVersion ?? ''));
  if (errors.length > before || !fhirFormat || !fhirVersion) return undefined;
  return { type: 'FHIR_RESOURCE', resources, fhirFormat, fhirVersion };
}
