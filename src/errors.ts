/**
 * Every error Voxgate raises on purpose. Codes are `VXG_ERR_<AREA>_<WHAT>`, never reused, and each
 * one is documented in docs/errors.md (a test keeps the two in sync).
 *
 * This module imports nothing of the project, so every layer (volume/ included) may use it.
 * @module
 */

/** The error table: code → HTTP status that an API maps it to, and the area it belongs to. */
export const ErrorCodes = {
  /** Input bytes are not a format we read (wrong magic). */
  VXG_ERR_VOLUME_FORMAT: { statusCode: 400 },
  /** A header is internally inconsistent or names something we cannot represent. */
  VXG_ERR_VOLUME_HEADER: { statusCode: 400 },
  /** The data ended before the header said it would (file or gzip stream). */
  VXG_ERR_VOLUME_TRUNCATED: { statusCode: 400 },
  /** The data is longer or the compressed stream broken in a way that is not a truncation. */
  VXG_ERR_VOLUME_CORRUPT: { statusCode: 400 },
  /** Decoded size over the configured limit (also what stops a gzip bomb). */
  VXG_ERR_VOLUME_TOO_LARGE: { statusCode: 400 },
  /** Spacing zero, negative where it must not be, or not finite. */
  VXG_ERR_VOLUME_SPACING: { statusCode: 400 },
  /** The voxel-to-world matrix is singular or not finite. */
  VXG_ERR_VOLUME_AFFINE: { statusCode: 400 },
  /** More than three non-trivial dimensions (a time series, vectors). */
  VXG_ERR_VOLUME_NOT_3D: { statusCode: 400 },
  /** A data type the codec cannot read or write. */
  VXG_ERR_VOLUME_DATATYPE: { statusCode: 400 },
  /** Two volumes that must share a grid do not. */
  VXG_ERR_VOLUME_GRID_MISMATCH: { statusCode: 500 },

  /** A file that is not DICOM Part 10 (no "DICM" after the 128-byte preamble, no recognisable dataset). */
  VXG_ERR_DICOM_NOT_DICOM: { statusCode: 400 },
  /** A DICOM file that ends inside an element (the value or the item it declares is longer than the file). */
  VXG_ERR_DICOM_TRUNCATED: { statusCode: 400 },
  /** A DICOM file whose structure is broken other than by truncation (bad item tags, impossible lengths). */
  VXG_ERR_DICOM_MALFORMED: { statusCode: 400 },
  /** No image series to convert: every file was skipped (non-image SOP classes, no pixel data, not DICOM). */
  VXG_ERR_DICOM_NO_IMAGES: { statusCode: 400 },
  /** The series asked for (by SeriesInstanceUID or stack id) is not among the files. */
  VXG_ERR_DICOM_SERIES_NOT_FOUND: { statusCode: 400 },
  /** A series that does not form one regular volume: missing slices, uneven gaps, mixed orientation, gantry tilt. */
  VXG_ERR_DICOM_SERIES_INCONSISTENT: { statusCode: 400 },
  /** Pixel data in a transfer syntax (or pixel format) Voxgate cannot decode. */
  VXG_ERR_DICOM_UNSUPPORTED_SYNTAX: { statusCode: 400 },
  /** Compressed pixel data that the codec could not decode, or that decodes to the wrong size. */
  VXG_ERR_DICOM_DECODE: { statusCode: 400 },

  /** A label map with no segment to write: every voxel is background (0) or "not computed" (255). */
  VXG_ERR_SEG_EMPTY: { statusCode: 422 },
  /** The label map does not lie on the source series' grid (size, slice count or affine differ). */
  VXG_ERR_SEG_SOURCE_MISMATCH: { statusCode: 500 },
  /** A SEG writer option or source attribute that cannot be encoded (a bad name, PN, CS or UID). */
  VXG_ERR_SEG_INVALID_OPTION: { statusCode: 400 },
  /** Bytes that are not a DICOM Segmentation Voxgate reads (other SOP class, compressed, missing attributes). */
  VXG_ERR_SEG_FORMAT: { statusCode: 400 },
  /** A SEG whose frames do not map onto the given grid (other size, orientation, positions or instances). */
  VXG_ERR_SEG_GEOMETRY: { statusCode: 400 },

  /** A request body that is not JSON or fails the schema. */
  VXG_ERR_REQUEST_INVALID: { statusCode: 422 },
  /** The request needs an API token and has none, or a wrong one. */
  VXG_ERR_AUTH_REQUIRED: { statusCode: 401 },
  /** An image reference that cannot be used: bad scheme, host or path not allowed. */
  VXG_ERR_IMAGE_URL: { statusCode: 422 },
  /** The image could not be fetched: not found, unreachable, timed out, refused. */
  VXG_ERR_IMAGE_FETCH: { statusCode: 422 },
  /** The image is larger than the configured download cap. */
  VXG_ERR_IMAGE_TOO_LARGE: { statusCode: 422 },
  /** Prompts that are malformed or contradict each other. */
  VXG_ERR_PROMPT_INVALID: { statusCode: 400 },
  /** A class prompt the engine cannot segment without points. */
  VXG_ERR_PROMPT_CLASS_UNSUPPORTED: { statusCode: 400 },
  /** A point outside the image. */
  VXG_ERR_PROMPT_POINT_OUTSIDE: { statusCode: 400 },
  /** Intensities that cannot be CT Hounsfield units, for an engine that needs HU. */
  VXG_ERR_IMAGE_NOT_CT: { statusCode: 400 },
  /** A class that needs contrast-enhanced CT (the classic engine's aorta) on a CT without contrast-filled blood. */
  VXG_ERR_IMAGE_NO_CONTRAST: { statusCode: 400 },
  /** An output location (local_working_dir) outside the operator-allowed roots. */
  VXG_ERR_OUTPUT_PATH: { statusCode: 400 },
  /** The output format or type asked for is not one Voxgate writes. */
  VXG_ERR_OUTPUT_FORMAT: { statusCode: 400 },
  /** The engine is still loading or has failed to load. */
  VXG_ERR_ENGINE_NOT_READY: { statusCode: 503 },
  /** The engine failed while segmenting. */
  VXG_ERR_ENGINE_FAILED: { statusCode: 500 },
  /** A NIM inference handed to the workers (nimInference: workers) that no worker ended in time. */
  VXG_ERR_NIM_WORKER_TIMEOUT: { statusCode: 503 },
  /** The remote engine's server is unreachable, timed out, answered 5xx/408/429 after the retries, or its circuit is open. */
  VXG_ERR_REMOTE_UNAVAILABLE: { statusCode: 503 },
  /** The remote engine's server answered something that is not a label map on the input's grid (broken zip, other shape or geometry). */
  VXG_ERR_REMOTE_RESPONSE: { statusCode: 502 },
  /** The remote engine's server refused the request (4xx): prompts its model does not take, or this server's credentials. */
  VXG_ERR_REMOTE_REJECTED: { statusCode: 400 },
  /** An ONNX model package (folder, model.json or model.onnx) that is not there. */
  VXG_ERR_MODEL_NOT_FOUND: { statusCode: 500 },
  /** A model.json that is not JSON or fails the package schema. */
  VXG_ERR_MODEL_INVALID: { statusCode: 500 },
  /** An ONNX file that onnxruntime cannot load. */
  VXG_ERR_MODEL_LOAD: { statusCode: 500 },
  /** A model.json that disagrees with its ONNX graph (names, channels, sizes), or a graph output of the wrong shape. */
  VXG_ERR_MODEL_GRAPH: { statusCode: 500 },
  /** The configuration (file, environment, flags) is invalid. */
  VXG_ERR_CONFIG_INVALID: { statusCode: 500 },

  /** The web page was never built (dist/web is missing). */
  VXG_ERR_WEB_NOT_BUILT: { statusCode: 404 },
  /** A path below /assets/ that the page's build does not have. */
  VXG_ERR_WEB_NOT_FOUND: { statusCode: 404 },
  /** A sample image path that GET /api/samples does not list. */
  VXG_ERR_SAMPLE_NOT_FOUND: { statusCode: 404 },

  /** No job has that jobId or transactionID. */
  VXG_ERR_JOB_NOT_FOUND: { statusCode: 404 },
  /** A request whose transactionID an existing job already has. */
  VXG_ERR_JOB_DUPLICATE: { statusCode: 409 },
  /** A result file name the job does not have. */
  VXG_ERR_JOB_RESULT_NOT_FOUND: { statusCode: 404 },
  /** The job store cannot be opened, migrated, read or written (or is closed). */
  VXG_ERR_JOB_STORE: { statusCode: 500 },
  /** A worker wrote to a job whose lease another worker holds now. */
  VXG_ERR_JOB_LEASE_LOST: { statusCode: 409 },
  /** A data source failed: unreachable, refused, not found, or it sent something unusable. */
  VXG_ERR_JOB_SOURCE: { statusCode: 502 },
  /** A destination refused or could not be reached when results were exported. */
  VXG_ERR_JOB_DESTINATION: { statusCode: 502 },
  /** Nothing the pipeline accepts was retrieved (no series of its modalities, or every one failed). */
  VXG_ERR_JOB_NO_SERIES: { statusCode: 422 },
  /** A source or destination interface this build cannot serve. */
  VXG_ERR_JOB_UNSUPPORTED: { statusCode: 422 },
  /** A job whose pipeline is no longer configured, or whose pipeline settings are unusable. */
  VXG_ERR_JOB_PIPELINE: { statusCode: 500 },
  /** A job taken over too many times (its workers kept dying): it is ended instead of retried forever. */
  VXG_ERR_JOB_INTERRUPTED: { statusCode: 500 },

  /** A DICOM node configuration entry (AE title, source, destination) that fails validation. */
  VXG_ERR_NODE_CONFIG_INVALID: { statusCode: 422 },
  /** An AE title, source or destination with that name, or that AE title (and host), exists already. */
  VXG_ERR_NODE_CONFIG_DUPLICATE: { statusCode: 409 },
  /** No AE title, source or destination of that name. */
  VXG_ERR_NODE_CONFIG_NOT_FOUND: { statusCode: 404 },
  /** A destination still named by an AE title cannot be deleted. */
  VXG_ERR_NODE_CONFIG_IN_USE: { statusCode: 409 },
  /** The C-ECHO test of a destination failed (refused, rejected, timed out, failure status). */
  VXG_ERR_NODE_ECHO_FAILED: { statusCode: 502 },

  /** DICOMweb connection details or arguments that cannot be used (bad URI, no authID, not a UID, a wildcard). */
  VXG_ERR_DICOMWEB_REQUEST: { statusCode: 422 },
  /** The DICOMweb server could not be reached: refused, reset, DNS, TLS. */
  VXG_ERR_DICOMWEB_UNREACHABLE: { statusCode: 502 },
  /** The DICOMweb server sent nothing for the idle timeout. */
  VXG_ERR_DICOMWEB_TIMEOUT: { statusCode: 504 },
  /** The DICOMweb server answered 401 or 403. */
  VXG_ERR_DICOMWEB_AUTH: { statusCode: 502 },
  /** The DICOMweb server answered 404: no such study, series or instance. */
  VXG_ERR_DICOMWEB_NOT_FOUND: { statusCode: 404 },
  /** Any other unexpected HTTP status from the DICOMweb server (5xx, 408 and 429 are transient). */
  VXG_ERR_DICOMWEB_STATUS: { statusCode: 502 },
  /** A DICOMweb answer that is not what was asked for: bad JSON, bad multipart, a part that is not DICOM. */
  VXG_ERR_DICOMWEB_RESPONSE: { statusCode: 502 },
  /** STOW-RS stored none of the instances (409, or every instance in FailedSOPSequence). */
  VXG_ERR_DICOMWEB_STORE_FAILED: { statusCode: 502 },
  /** DIMSE peer or arguments that cannot be used (AE title, port, not a UID, a wildcard). */
  VXG_ERR_DIMSE_REQUEST: { statusCode: 422 },
  /** The DICOM peer could not be reached, or closed the connection. */
  VXG_ERR_DIMSE_UNREACHABLE: { statusCode: 502 },
  /** The DICOM peer sent nothing for the timeout (connect, association or between PDUs). */
  VXG_ERR_DIMSE_TIMEOUT: { statusCode: 504 },
  /** The DICOM peer rejected the association (PS3.8 §9.3.4: AE title not recognised, congestion …). */
  VXG_ERR_DIMSE_REJECTED: { statusCode: 502 },
  /** The DICOM peer aborted the association (A-ABORT) or dropped it mid-operation. */
  VXG_ERR_DIMSE_ABORTED: { statusCode: 502 },
  /** The DICOM peer accepted no presentation context for the operation (SOP class or transfer syntax). */
  VXG_ERR_DIMSE_NO_CONTEXT: { statusCode: 502 },
  /** The DICOM peer answered a failure status (PS3.7 Annex C), or sub-operations all failed. */
  VXG_ERR_DIMSE_STATUS: { statusCode: 502 },
  /** FHIR base URL, resource type or id that cannot be used. */
  VXG_ERR_FHIR_REQUEST: { statusCode: 422 },
  /** The FHIR server could not be reached. */
  VXG_ERR_FHIR_UNREACHABLE: { statusCode: 502 },
  /** The FHIR server sent nothing for the idle timeout. */
  VXG_ERR_FHIR_TIMEOUT: { statusCode: 504 },
  /** The FHIR server answered 401 or 403. */
  VXG_ERR_FHIR_AUTH: { statusCode: 502 },
  /** The FHIR server answered 404 (or 410): no such resource. */
  VXG_ERR_FHIR_NOT_FOUND: { statusCode: 404 },
  /** Any other unexpected HTTP status from the FHIR server. */
  VXG_ERR_FHIR_STATUS: { statusCode: 502 },
  /** A FHIR answer that is not the resource asked for (wrong media type, too large). */
  VXG_ERR_FHIR_RESPONSE: { statusCode: 502 },
} as const satisfies Record<string, { statusCode: number }>;

export type ErrorCode = keyof typeof ErrorCodes;

export interface VoxgateErrorOptions {
  cause?: unknown;
  /** Overrides the table's HTTP status when one call site knows better. */
  statusCode?: number;
}

/** The base of every deliberate error: a stable code, the HTTP status it maps to, and a message a user can act on. */
export class VoxgateError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;

  constructor(code: ErrorCode, message: string, options: VoxgateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VoxgateError';
    this.code = code;
    this.statusCode = options.statusCode ?? ErrorCodes[code].statusCode;
  }
}

/** True when `err` is a VoxgateError with the given code (or any code when none is given). */
export function isVoxgateError(err: unknown, code?: ErrorCode): err is VoxgateError {
  return err instanceof VoxgateError && (code === undefined || err.code === code);
}
