/**
 * The real infer step: the job's DICOM folder → one volume per image series of a modality the
 * pipeline takes → the pipeline's engine → a DICOM SEG and/or a NIfTI label map per series, written
 * to the job's results folder. The same engine call and prompt rules as the NIM route
 * (runInference): class prompts resolved against the engine, everything-mode when none.
 * @module
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { SourceSeries } from '../dicom/series.js';
import { listDicomSeries, readDicomSeries } from '../dicom/read-series.js';
import type { Engine } from '../engines/engine.js';
import { VoxgateError, isVoxgateError } from '../errors.js';
import { enginePrompts, resolvePrompts } from '../pipeline/prompts.js';
import { encodeVolume } from '../volume/volume-file.js';
import type { LabelVolume, Volume } from '../volume/volume.js';
import type { ResultFile, SeriesOutcome } from './job.js';
import { isDicomUid, writeFileAtomic } from './job-files.js';
import { isRetryable } from './retry.js';
import { encodeDicomSeg } from './seg-encoder.js';
import type { SegmentContext, Segmenter } from './steps.js';

/** What the segmenter needs to know of a series before reading its pixels. */
export interface SeriesListing {
  /** Pass to `read` (a stack id). */
  readonly id: string;
  readonly seriesInstanceUID: string;
  readonly modality: string;
  readonly frames: number;
}

/** Reads the job's folder; src/dicom/read-series.ts by default. */
export interface SeriesReader {
  /** The image stacks in `folder`, largest first. */
  list(folder: string): Promise<readonly SeriesListing[]>;
  read(folder: string, id: string): Promise<{ readonly volume: Volume; readonly series: SourceSeries }>;
}

export interface SegEncodeOptions {
  readonly algorithmName: string;
  readonly algorithmVersion: string;
  /** Derived from the job and series, so a resumed job writes the same instance (a PACS keeps one copy). */
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  /** Names of labels outside VISTA3D's table (an ONNX model's extra labels). */
  readonly labelNames?: Readonly<Record<number, string>>;
}

/**
 * Label map on the grid of `series` → DICOM SEG Part 10 bytes. Throws VXG_ERR_SEG_EMPTY when the
 * label map holds no segment.
 */
export type SegEncoder = (labels: LabelVolume, series: SourceSeries, options: SegEncodeOptions) => Uint8Array;

export interface DicomSegmenterOptions {
  readonly reader?: SeriesReader;
  /** Voxgate's SEG writer (seg-encoder.ts) by default. */
  readonly encodeSeg?: SegEncoder;
}

export const DICOM_SERIES_READER: SeriesReader = {
  list: async (folder) => (await listDicomSeries(folder)).series,
  read: (folder, id) => readDicomSeries(folder, { series: id }),
};

/** Errors that belong to one series' data, not to the job: the series is recorded as failed and the others go on. */
const SERIES_ERROR_AREAS = ['VXG_ERR_DICOM_', 'VXG_ERR_VOLUME_', 'VXG_ERR_IMAGE_NOT_CT', 'VXG_ERR_IMAGE_NO_CONTRAST', 'VXG_ERR_SEG_SOURCE_MISMATCH'];

/**
 * @example
 * const segmenter = new DicomSegmenter({ encodeSeg });
 * const runner = new JobRunner({ steps: { retrievers, segmenter, exporters }, … });
 */
export class DicomSegmenter implements Segmenter {
  readonly #reader: SeriesReader;
  readonly #encodeSeg: SegEncoder;

  constructor(options: DicomSegmenterOptions = {}) {
    this.#reader = options.reader ?? DICOM_SERIES_READER;
    this.#encodeSeg = options.encodeSeg ?? encodeDicomSeg;
  }

  async segment(context: SegmentContext): Promise<void> {
    const { pipeline, inputFolder } = context;
    const listed = await this.#reader.list(inputFolder);
    // One stack per series: the largest (a series may also hold a localizer of another orientation).
    const stacks = new Map<string, SeriesListing>();
    for (const stack of listed) if (!stacks.has(stack.seriesInstanceUID)) stacks.set(stack.seriesInstanceUID, stack);
    const all = [...stacks.values()];
    const takes = new Set(pipeline.modality.map((m) => m.toUpperCase()));
    for (const [n, stack] of all.entries()) {
      const uid = stack.seriesInstanceUID;
      if (uid in context.series) continue;
      const modality = stack.modality || 'unknown';
      const fraction = (f: number): number => (n + f) / all.length;
      if (!takes.has(modality.toUpperCase())) {
        const reason = `modality ${modality}; pipeline ${pipeline.id} takes ${pipeline.modality.join(' or ')}`;
        await context.recordSeries(uid, { status: 'skipped', modality, reason, files: [] }, []);
        continue;
      }
      context.progress(fraction(0), `Segmenting series ${n + 1} of ${all.length} (${modality}, ${stack.frames} slices).`);
      let outcome: { outcome: SeriesOutcome; results: ResultFile[] };
      try {
        outcome = await this.#segmentOne(context, stack, n, (f) => context.progress(fraction(f)));
      } catch (err) {
        if (context.signal.aborted || isRetryable(err)) throw err;
        if (!isVoxgateError(err) || !SERIES_ERROR_AREAS.some((area) => err.code.startsWith(area))) throw err;
        const reason = err.message.replace(/\.$/, '');
        await context.recordSeries(uid, { status: 'failed', modality, reason, files: [] }, []);
        continue;
      }
      await context.recordSeries(uid, outcome.outcome, outcome.results);
    }
    context.progress(1);
  }

  async #segmentOne(
    context: SegmentContext,
    stack: SeriesListing,
    index: number,
    progress: (fraction: number) => void,
  ): Promise<{ outcome: SeriesOutcome; results: ResultFile[] }> {
    const { pipeline, resultsFolder, jobId } = context;
    const engine = await context.engine();
    const prompts = pipelinePrompts(pipeline.id, pipeline.classes, engine);
    const { volume, series } = await this.#reader.read(context.inputFolder, stack.id);
    const grid = { dims: volume.dims, affine: volume.affine, source: volume.source };
    // The engine may take the voxel buffer (it moves to a worker thread): keep only the grid.
    const labels = await engine.segment(volume, prompts, (f) => progress(0.05 + 0.85 * f));
    const onGrid: LabelVolume = { ...labels, ...grid };
    const base = isDicomUid(stack.seriesInstanceUID) ? stack.seriesInstanceUID : `series-${index + 1}`;
    const results: ResultFile[] = [];
    const notes: string[] = [];
    if (pipeline.outputs.includes('nifti')) {
      const name = `${base}.nii.gz`;
      const bytes = await encodeVolume(onGrid, '.nii.gz');
      await writeFileAtomic(join(resultsFolder, name), bytes);
      results.push({ name, type: 'nifti', mediaType: 'application/gzip', size: bytes.length, seriesInstanceUid: stack.seriesInstanceUID });
    }
    if (pipeline.outputs.includes('seg')) {
      try {
        const bytes = this.#encodeSeg(onGrid, series, {
          algorithmName: engine.info.name,
          algorithmVersion: engine.info.version,
          sopInstanceUid: derivedUid(jobId, stack.seriesInstanceUID, 'seg-instance'),
          seriesInstanceUid: derivedUid(jobId, stack.seriesInstanceUID, 'seg-series'),
          ...(engine.info.extraLabels ? { labelNames: engine.info.extraLabels } : {}),
        });
        const name = `${base}.seg.dcm`;
        await writeFileAtomic(join(resultsFolder, name), bytes);
        results.push({ name, type: 'seg', mediaType: 'application/dicom', size: bytes.length, seriesInstanceUid: stack.seriesInstanceUID });
      } catch (err) {
        if (!isVoxgateError(err, 'VXG_ERR_SEG_EMPTY')) throw err;
        notes.push('nothing found, so no DICOM SEG');
      }
    }
    progress(1);
    const outcome: SeriesOutcome = { status: 'segmented', modality: stack.modality, files: results.map((r) => r.name), ...(notes.length > 0 ? { reason: notes.join('; ') } : {}) };
    return { outcome, results };
  }
}

function pipelinePrompts(id: string, classes: readonly (string | number)[] | undefined, engine: Engine) {
  try {
    return enginePrompts(resolvePrompts({ classes: classes ?? [] }, engine.info));
  } catch (err) {
    throw new VoxgateError('VXG_ERR_JOB_PIPELINE', `Pipeline ${id} cannot run on the ${engine.info.name} engine: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * A UID under the UUID root 2.25 (PS3.5 B.2) derived from the job and the series, so that writing
 * the SEG again after a crash gives the same SOP Instance UID and a PACS stores it once.
 */
export function derivedUid(jobId: string, seriesInstanceUid: string, purpose: string): string {
  const digest = createHash('sha256').update(`${jobId}/${seriesInstanceUid}/${purpose}`).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${digest}`).toString()}`;
}
