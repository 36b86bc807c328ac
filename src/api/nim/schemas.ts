/**
 * The NIM request and answer schemas (spec/nim-api.md); zod checks requests and documents the API.
 * @module
 */
import { z } from 'zod';
import { VolumeExtensions } from '../../volume/volume-file.js';

const VoxelIndex = z.array(z.number().int()).length(3);

export const NimPromptsSchema = z.object({
  classes: z.array(z.union([z.string(), z.number().int()])).optional().describe('Label names (case-insensitive) or VISTA3D indices.'),
  points: z
    .record(z.string(), z.array(VoxelIndex))
    .optional()
    .describe('One object: label name or index → list of [i, j, k] zero-based voxel indices in file order.'),
  point_labels: z.record(z.string(), z.array(z.number().int())).optional().describe('Extension: 1 = inside, 0 = outside, parallel to points.'),
});

export const NimOutputSchema = z.object({
  extension: z.enum(VolumeExtensions).default('.nii.gz'),
  dtype: z.enum(['uint8', 'int16', 'float32']).default('uint8'),
});

const common = {
  prompts: NimPromptsSchema.nullish(),
  local_working_dir: z.string().min(1).nullish().describe('A folder on the server (below an allowed root) where the result is also written.'),
  output: NimOutputSchema.optional().describe('Extension: output format and voxel type.'),
};

export const NimInferenceRequestSchema = z.object({
  image: z.string().min(1).describe('URL (http, https, file) or absolute path of a NIfTI or NRRD image.'),
  ...common,
});

/** The `request` part of a multipart upload: the same fields, the image comes as a file part. */
export const NimUploadRequestSchema = z.object(common);

export type NimInferenceRequest = z.infer<typeof NimInferenceRequestSchema>;

export const NimStatusSchema = z.object({ status: z.string() });
export const NimErrorSchema = z.object({ error_msg: z.array(z.object({ msg: z.string() })), code: z.string().optional() });
export const NimDetailSchema = z.object({ detail: z.unknown(), code: z.string().optional() });

export const NimInfoSchema = z.object({
  name: z.string(),
  description: z.string(),
  version: z.string(),
  labels: z.record(z.string(), z.string()),
  engine: z.object({
    name: z.string(),
    version: z.string(),
    supported_classes: z.array(z.number()),
    point_prompts: z.boolean(),
  }),
});
