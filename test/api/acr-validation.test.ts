/**
 * Every validation message of spec/acr-api.md, exactly as worded there (clients match on them),
 * through `POST /api/inference`: one RFC 7807 problem, 422, all messages joined by one space.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AcrApp } from '../helpers/acr-server.js';
import { startAcrApp, validBody } from '../helpers/acr-server.js';

let acr: AcrApp;

before(async () => {
  acr = await startAcrApp({ pipelines: { lungs: { classes: ['left lung', 'right lung'] } } });
});
after(() => acr.close());

const ALGORITHM = { interface: 'Algorithm', connectionDetails: { name: 'VISTA3D', id: 'vista3d' } };
const DICOMWEB = { interface: 'DICOMweb', connectionDetails: { uri: 'http://pacs.example/dicom-web/', authType: 'None' } };

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown>; contentType: string }> {
  const res = await acr.app.inject({ method: 'POST', url: '/api/inference', payload: body as Record<string, unknown> });
  return { status: res.statusCode, json: res.json(), contentType: String(res.headers['content-type']) };
}

/** Asserts the whole 422 problem body for `body`. */
async function rejects422(body: unknown, detail: string): Promise<void> {
  const res = await post(body);
  assert.equal(res.status, 422, JSON.stringify(res.json));
  assert.match(res.contentType, /^application\/problem\+json/);
  assert.deepEqual(res.json, { type: 'https://tools.ietf.org/html/rfc4918#section-11.2', title: 'Invalid request', status: 422, detail, code: 'VXG_ERR_REQUEST_INVALID' });
  assert.equal(acr.queued.some((j) => j.transactionId === (body as { transactionID?: string }).transactionID), false, 'nothing queued');
}

function withInput(input: unknown): Record<string, unknown> {
  return validBody({ inputMetadata: { inputs: [input] } });
}

describe('message 1: transactionId', () => {
  test("a request without transactionID gets 'transactionId' is required.", () => rejects422(validBody({ transactionID: undefined }), "'transactionId' is required."));
  test('a blank transactionID counts as missing', () => rejects422(validBody({ transactionID: '   ' }), "'transactionId' is required."));
});

describe("message 2: No 'inputResources' specified.", () => {
  test('an empty inputResources', () =>
    rejects422(
      validBody({ inputResources: [] }),
      "No algorithm defined or more than one algorithms defined in 'inputResources'.  'inputResources' must include one algorithm/pipeline for the inference request. No 'inputResources' specified.",
    ));
  test('inputResources with only the Algorithm entry', () => rejects422(validBody({ inputResources: [ALGORITHM] }), "No 'inputResources' specified."));
});

describe('message 3: exactly one algorithm (two spaces after the first period)', () => {
  const message =
    "No algorithm defined or more than one algorithms defined in 'inputResources'.  'inputResources' must include one algorithm/pipeline for the inference request.";
  test('no Algorithm entry', () => rejects422(validBody({ inputResources: [DICOMWEB] }), message));
  test('two Algorithm entries (Voxgate counts)', () => rejects422(validBody({ inputResources: [ALGORITHM, ALGORITHM, DICOMWEB] }), message));
});

describe('message 4: inputMetadata', () => {
  const message = 'Request has no `inputMetadata` defined. At least one `inputs` or `inputMetadata` required.';
  test('no inputMetadata', () => rejects422(validBody({ inputMetadata: undefined }), message));
  test('inputMetadata with neither details nor inputs', () => rejects422(validBody({ inputMetadata: {} }), message));
  test('inputMetadata with an empty inputs list', () => rejects422(validBody({ inputMetadata: { inputs: [] } }), message));
});

describe('message 5: input details', () => {
  test('DICOM_UID without studies', () => rejects422(withInput({ type: 'DICOM_UID' }), 'Request type is set to `DICOM_UID` but no `studies` defined.'));
  test('DICOM_UID with an empty studies list', () => rejects422(withInput({ type: 'DICOM_UID', studies: [] }), 'Request type is set to `DICOM_UID` but no `studies` defined.'));
  test('an empty StudyInstanceUID', () => rejects422(withInput({ type: 'DICOM_UID', studies: [{ StudyInstanceUID: '' }] }), '`StudyInstanceUID` cannot be empty.'));
  test('an empty SeriesInstanceUID', () =>
    rejects422(withInput({ type: 'DICOM_UID', studies: [{ StudyInstanceUID: '1.2', series: [{ SeriesInstanceUID: ' ' }] }] }), '`SeriesInstanceUID` cannot be empty.'));
  test('an empty SOPInstanceUID list, and a blank UID in one', () =>
    rejects422(
      withInput({
        type: 'DICOM_UID',
        studies: [{ StudyInstanceUID: '1.2', series: [{ SeriesInstanceUID: '1.2.3', instances: [{ SOPInstanceUID: [] }, { SOPInstanceUID: ['1.2.3.4', ''] }] }] }],
      }),
      '`SOPInstanceUID` cannot be empty. `SOPInstanceUID` cannot be empty.',
    ));
  test('DICOM_PATIENT_ID without PatientID', () =>
    rejects422(withInput({ type: 'DICOM_PATIENT_ID' }), 'Request type is set to `DICOM_PATIENT_ID` but `PatientID` is not defined.'));
  test('ACCESSION_NUMBER without accessionNumber', () =>
    rejects422(withInput({ type: 'ACCESSION_NUMBER', accessionNumber: [] }), 'Request type is set to `ACCESSION_NUMBER` but no `accessionNumber` defined.'));
  test('FHIR_RESOURCE without resources', () =>
    rejects422(withInput({ type: 'FHIR_RESOURCE' }), 'Request type is set to `FHIR_RESOURCE` but no FHIR `resources` defined.'));
  test('a FHIR resource without a type, once per such resource', () =>
    rejects422(
      withInput({ type: 'FHIR_RESOURCE', resources: [{ resourceType: '', id: '1' }, { id: '2' }, { resourceType: 'Patient', id: '3' }] }),
      'A FHIR resource type cannot be empty. A FHIR resource type cannot be empty.',
    ));
  test('an unknown type is named', () => rejects422(withInput({ type: 'DICOM_SERIES' }), "'inputMetadata' does not yet support type 'DICOM_SERIES'."));
  test('a missing type reads as Unknown, as MIG prints it', () => rejects422(withInput({ studies: [] }), "'inputMetadata' does not yet support type 'Unknown'."));
});

describe('message 6: DICOMweb connection details, inputs and outputs', () => {
  test('Basic without authId in inputResources', () =>
    rejects422(
      validBody({ inputResources: [ALGORITHM, { interface: 'DICOMweb', connectionDetails: { uri: 'http://pacs/dicom-web/', authType: 'Basic' } }] }),
      "One of the 'inputResources' has authType of 'Basic' but does not include a valid value for 'authId'",
    ));
  test('Bearer with a blank authID in outputResources', () =>
    rejects422(
      validBody({ outputResources: [{ interface: 'DICOMweb', connectionDetails: { uri: 'http://pacs/dicom-web/', authType: 'Bearer', authID: ' ' } }] }),
      "One of the 'outputResources' has authType of 'Bearer' but does not include a valid value for 'authId'",
    ));
  test('a URI that is not well formed, in inputs and in outputs', () =>
    rejects422(
      validBody({
        inputResources: [ALGORITHM, { interface: 'DICOMweb', connectionDetails: { uri: 'pacs/dicom web' } }],
        outputResources: [{ interface: 'DICOMweb', connectionDetails: { uri: 'http://' } }],
      }),
      "The provided URI 'pacs/dicom web' is not well formed. The provided URI 'http://' is not well formed.",
    ));
  test('a missing URI is printed empty', () =>
    rejects422(validBody({ inputResources: [ALGORITHM, { interface: 'DICOMweb', connectionDetails: {} }] }), "The provided URI '' is not well formed."));
});

describe('message 7: FHIR connection details', () => {
  test('in inputResources and in outputResources', () =>
    rejects422(
      validBody({
        inputResources: [ALGORITHM, DICOMWEB, { interface: 'FHIR', connectionDetails: { uri: 'not a uri' } }],
        outputResources: [{ interface: 'FHIR', connectionDetails: { uri: 'fhir' } }],
      }),
      "The provided URI 'not a uri' in `inputResources` is not well formed. The provided URI 'fhir' in `outputResources` is not well formed.",
    ));
});

describe("Voxgate's additions", () => {
  test('an Algorithm id that names no configured pipeline', () =>
    rejects422(
      validBody({ inputResources: [{ interface: 'Algorithm', connectionDetails: { id: 'liver-tumour' } }, DICOMWEB] }),
      "The algorithm id 'liver-tumour' names no pipeline configured on this server (configured: vista3d, lungs).",
    ));
  test('a DIMSE entry without AE title, host or port', () =>
    rejects422(
      validBody({ inputResources: [ALGORITHM, { interface: 'DIMSE', connectionDetails: { aeTitle: 'ORTHANC', port: 0 } }] }),
      "One of the 'inputResources' has interface 'DIMSE' but does not include a valid 'host' and 'port'.",
    ));
  test('a DIMSE destination with an AE title longer than 16 characters', () =>
    rejects422(
      validBody({ outputResources: [{ interface: 'DIMSE', connectionDetails: { aeTitle: 'A_VERY_LONG_AE_TITLE', host: 'pacs', port: 104 } }] }),
      "One of the 'outputResources' has interface 'DIMSE' but does not include a valid 'aeTitle'.",
    ));
});

describe('several problems at once', () => {
  test('an empty object gets messages 1, 3, 2 and 4 in the reference order, joined by one space', () =>
    rejects422(
      {},
      "'transactionId' is required. No algorithm defined or more than one algorithms defined in 'inputResources'.  'inputResources' must include one algorithm/pipeline for the inference request. No 'inputResources' specified. Request has no `inputMetadata` defined. At least one `inputs` or `inputMetadata` required.",
    ));
  test('resource problems come before input-metadata problems, inputs before outputs', () =>
    rejects422(
      {
        transactionID: 'tx-many',
        inputMetadata: { inputs: [{ type: 'DICOM_PATIENT_ID' }], details: { type: 'ACCESSION_NUMBER' } },
        inputResources: [ALGORITHM, { interface: 'DICOMweb', connectionDetails: { uri: 'x', authType: 'Bearer' } }],
        outputResources: [{ interface: 'FHIR', connectionDetails: { uri: '' } }],
      },
      [
        "One of the 'inputResources' has authType of 'Bearer' but does not include a valid value for 'authId'",
        "The provided URI 'x' is not well formed.",
        "The provided URI '' in `outputResources` is not well formed.",
        'Request type is set to `DICOM_PATIENT_ID` but `PatientID` is not defined.',
        'Request type is set to `ACCESSION_NUMBER` but no `accessionNumber` defined.',
      ].join(' '),
    ));
});
