/**
 * `voxgate segment IMAGE [--classes a,b] [--point label:i,j,k]… [-o OUT]`: the NIM pipeline on a
 * local file, with a progress bar on a terminal.
 * @module
 */
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Config } from '../config.js';
import { createEngine, engineOptions } from '../engines/index.js';
import { VoxgateError } from '../errors.js';
import type { NimPrompts } from '../pipeline/prompts.js';
import { runInference } from '../pipeline/inference.js';
import { summarizeLabels } from '../pipeline/label-summary.js';
import { volumeExtensionOf, volumeStem } from '../volume/volume-file.js';

export interface SegmentOptions {
  image: string;
  classes?: string;
  points: string[];
  negativePoints: string[];
  output?: string;
  dtype?: 'uint8' | 'int16' | 'float32';
}

/** Parses `label:i,j,k` into its key and voxel index. */
export function parsePointFlag(value: string): { key: string; point: [number, number, number] } {
  const at = value.lastIndexOf(':');
  const coords = value.slice(at + 1).split(',').map((s) => Number(s.trim()));
  if (at <= 0 || coords.length !== 3 || coords.some((c) => !Number.isInteger(c))) {
    throw new VoxgateError('VXG_ERR_PROMPT_INVALID', `--point "${value}" must look like label:i,j,k (e.g. spleen:120,88,40 or 3:120,88,40).`);
  }
  return { key: value.slice(0, at), point: coords as [number, number, number] };
}

export function promptsFromFlags(options: Pick<SegmentOptions, 'classes' | 'points' | 'negativePoints'>): NimPrompts {
  const classes = (options.classes ?? '').split(',').map((c) => c.trim()).filter(Boolean).map((c) => (/^\d+$/.test(c) ? Number(c) : c));
  const points: Record<string, number[][]> = {};
  const labels: Record<string, number[]> = {};
  for (const [flag, inside] of [...options.points.map((p) => [p, 1] as const), ...options.negativePoints.map((p) => [p, 0] as const)]) {
    const { key, point } = parsePointFlag(flag);
    (points[key] ??= []).push(point);
    (labels[key] ??= []).push(inside);
  }
  return {
    ...(classes.length ? { classes } : {}),
    ...(Object.keys(points).length ? { points, point_labels: labels } : {}),
  };
}

export async function segmentCommand(options: SegmentOptions, config: Config): Promise<string> {
  const output = options.output ?? `${volumeStem(options.image)}_seg.nii.gz`;
  const extension = volumeExtensionOf(output);
  if (!extension) throw new VoxgateError('VXG_ERR_OUTPUT_FORMAT', `Cannot tell the output format from "${output}": name it .nii.gz, .nii or .nrrd.`);
  const engine = await createEngine(config.engine, engineOptions(config));
  const bar = progressBar();
  try {
    const result = await runInference(
      {
        image: { name: basename(options.image), body: createReadStream(options.image) },
        prompts: promptsFromFlags(options),
        output: { extension, dtype: options.dtype ?? 'uint8' },
      },
      {
        engine,
        progress: bar.update,
        limits: {
          maxDecodedBytes: config.maxDecodedBytes,
          policy: { allowPaths: [], allowHosts: [], maxImageBytes: config.maxImageBytes, timeoutMs: config.fetchTimeoutMs, maxRedirects: 0 },
        },
      },
    );
    bar.done();
    await writeFile(output, result.bytes);
    const labels = summarizeLabels(result.labels, result.labelNames);
    const lines = Object.entries(labels).map(([index, s]) => `  ${index.padStart(3)} ${s.name.padEnd(28)} ${String(s.voxels).padStart(10)} voxels ${s.volume_ml.toFixed(1).padStart(10)} mL`);
    const t = result.timing;
    return [`${output}: ${result.labels.dims.join('×')}`, ...lines, `  decode ${t.decode.toFixed(0)} ms, engine ${t.engine.toFixed(0)} ms, encode ${t.encode.toFixed(0)} ms`].join('\n');
  } finally {
    bar.done();
    await engine.close();
  }
}

/** A one-line progress bar on stderr when it is a terminal; silent otherwise. */
function progressBar(): { update: (fraction: number, stage: string) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  let shown = false;
  return {
    update(fraction, stage) {
      if (!tty) return;
      const width = 30;
      const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${stage.padEnd(24)}`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write('\n');
      shown = false;
    },
  };
}
