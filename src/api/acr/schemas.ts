/**
 * Response schemas of the ACR routes (spec/acr-api.md, "Status"), and the request body as the
 * OpenAPI page documents it. The body is checked by parse-request.ts, not by this schema: names
 * match case-insensitively there, which a JSON schema cannot say.
 * @module
 */
import { z } from 'zod';

export const AcrAcceptedSchema = z.object({ transactionId: z.string(), jobId: z.string() });

export const AcrStatusSchema = z.object({
  transactionId: z.string(),
  jobId: z.string(),
  platform: z.object({
    jobId: z.string(),
    status: z.enum(['Unknown', 'Healthy', 'Faulted']),
    state: z.enum(['Pending', 'Running', 'Stopped']),
    priority: z.enum(['Lower', 'Normal', 'Higher', 'Immediate']),
    created: z.string().describe('ISO 8601'),
    started: z.string().nullable(),
    stopped: z.string().nullable(),
    progress: z.number().int().min(0).max(100).describe('Extension: 0–100 over retrieve, infer and export.'),
  }),
  dicom: z.object({
    state: z.enum(['Queued', 'InProcess', 'Completed']).describe('Completed only once the results are exported.'),
    status: z.enum(['Unknown', 'Success', 'Fail']),
  }),
  message: z.string(),
});

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
});

export const ResultListSchema = z.object({
  jobId: z.string(),
  transactionId: z.string(),
  results: z.array(
    z.object({
      name: z.string(),
      type: z.enum(['seg', 'nifti']),
      mediaType: z.string(),
      size: z.number().int(),
      seriesInstanceUid: z.string(),
      url: z.string().describe('Download path, relative to the server.'),
    }),
  ),
});

const Resource = z.looseObject({
  interface: z.string().describe('Algorithm | DICOMweb | DIMSE | FHIR'),
  connectionDetails: z.looseObject({
    name: z.string().optional(),
    id: z.string().optional().describe('Algorithm: the pipeline (default vista3d).'),
    uri: z.string().optional(),
    authType: z.string().optional().describe('None | Basic | Bearer'),
    authID: z.string().optional(),
    aeTitle: z.string().optional(),
    host: z.string().optional(),
    port: z.union([z.number(), z.string()]).optional(),
    retrieve: z.string().optional().describe('DIMSE: C-MOVE | C-GET'),
  }),
});

export const AcrRequestDocSchema = z.looseObject({
  transactionID: z.string(),
  priority: z.union([z.number(), z.string()]).optional().describe('0–255 (default 128); higher runs first.'),
  inputMetadata: z.looseObject({ details: z.looseObject({}).optional(), inputs: z.array(z.looseObject({})).optional() }),
  inputResources: z.array(Resource),
  outputResources: z.array(Resource).optional(),
});
