/**
 * Pipelines: what an ACR request's Algorithm `id` selects — the engine, the classes, which series
 * to take (by Modality) and which result files to make. `vista3d` (everything the configured engine
 * segments, CT, SEG and NIfTI) is always there.
 * @module
 */
import { z } from 'zod';

export const PipelineOutputs = ['seg', 'nifti'] as const;
export type PipelineOutput = (typeof PipelineOutputs)[number];

/** One pipeline in the configuration file (`pipelines: { <id>: {...} }`). */
export const PipelineSettingsSchema = z
  .object({
    /** Engine name; the server's configured engine when absent. */
    engine: z.enum(['classic', 'onnx', 'remote']).optional(),
    /** VISTA3D label names or indices; absent or empty: everything the engine segments. */
    classes: z.array(z.union([z.string().min(1), z.number().int()])).optional(),
    /** Modality values (0008,0060) of the series to segment; others are skipped. */
    modality: z.array(z.string().min(1)).min(1).default(['CT']),
    outputs: z.array(z.enum(PipelineOutputs)).min(1).default(['seg', 'nifti']),
  })
  .strict();

export const PipelinesSchema = z.record(z.string().min(1), PipelineSettingsSchema);

export type PipelineSettings = z.infer<typeof PipelineSettingsSchema>;

export interface Pipeline extends PipelineSettings {
  readonly id: string;
}

export const DEFAULT_PIPELINE_ID = 'vista3d';

/** The configured pipelines with `vista3d` added when the configuration does not define it. */
export function pipelineTable(configured: Readonly<Record<string, PipelineSettings>> = {}): ReadonlyMap<string, Pipeline> {
  const table = new Map<string, Pipeline>();
  table.set(DEFAULT_PIPELINE_ID, { id: DEFAULT_PIPELINE_ID, modality: ['CT'], outputs: ['seg', 'nifti'] });
  for (const [id, settings] of Object.entries(configured)) table.set(id, { ...settings, id });
  return table;
}

/** The pipeline an Algorithm `id` names: an exact match, else the one that matches ignoring case. */
export function findPipeline(table: ReadonlyMap<string, Pipeline>, id: string): Pipeline | undefined {
  const exact = table.get(id);
  if (exact) return exact;
  const folded = [...table.values()].filter((p) => p.id.toLowerCase() === id.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}
