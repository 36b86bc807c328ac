/**
 * The `onnx` engine: any ONNX segmentation network described by a model package
 * (model-package.ts), run with onnxruntime-node on the CPU. `createOnnxEngine` is the factory a
 * WorkerEngine worker calls (src/engines/index.ts), so loading and every run happen off the main
 * thread; it works in-process too.
 *
 * One request: model grid (reorient + resample, model-grid.ts) → optional foreground box on raw
 * intensities → intensity transform → region (the grid or the foreground box, padded to one window;
 * or centred and cropped/padded to a fixed shape) → windows in batches through `session.run`,
 * progress after each batch → blended, memory-bounded stitching (stitcher.ts) and activation per
 * finished slice (activation.ts) → labels back on the input grid (nearest neighbour, exact inverse
 * reorientation).
 *
 * Label values: the package's labels for the channels asked for; 0 where the network says
 * background, a channel was not asked for, or outside the foreground box; 255 ("not computed")
 * where a fixed-shape input cropped the image.
 * @module
 */
import os from 'node:os';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { VoxgateError } from '../../errors.js';
import type { LabelVolume, Volume } from '../../volume/volume.js';
import { createLabelVolume, voxelCount } from '../../volume/volume.js';
import type { Engine, EngineInfo, ProgressCallback, SegmentationPrompts } from '../engine.js';
import type { LabelSinkOptions } from './activation.js';
import { labelSink } from './activation.js';
import type { GraphBinding } from './graph-check.js';
import { checkGraph, checkOutputDims } from './graph-check.js';
import { applyIntensity } from './intensity.js';
import type { ModelPackage } from './model-package.js';
import { loadModelPackage, onnxEngineInfo } from './model-package.js';
import { labelsToInput, toModelGrid } from './model-grid.js';
import { ScratchBuffers } from '../../volume/scratch-buffers.js';
import { StitchThread, StitchThreadFailure } from './stitch-thread.js';
import { WindowStitcher, sinkWholeWindow } from './stitcher.js';
import type { Box, Triple } from './windows.js';
import { centredBox, copyWindow, fillOutside, foregroundBox, importanceMap, padBox, wholeBox, windowOrigins } from './windows.js';

export interface OnnxEngineOptions {
  /** The model package: its folder, or its model.json. */
  readonly model: string;
  /** onnxruntime intra-op threads (default: every core, `os.availableParallelism()`). */
  readonly intraOpThreads?: number;
  /**
   * Blend windows in a second thread while the network runs (default true; stitch-thread.ts).
   * False: in the engine's own thread, after each batch.
   */
  readonly stitchThread?: boolean;
  /** The stitching thread's module (default: stitch-worker next to this one); tests give a broken one. */
  readonly stitchWorker?: URL;
}

/**
 * onnxruntime's intra-op threads spin-wait for work after each parallel section and after each run
 * by default. With as many of them as cores, that spinning takes the cores the engine's own thread
 * (cutting the next batch) and its stitching thread need between and beside runs: measured on the
 * 2-core benchmark machine, the engine's overhead and the network's own time both drop without it
 * (bench/onnx.ts uses the same setting for its raw session).
 */
export const ENGINE_SESSION_EXTRA = { extra: { session: { intra_op: { allow_spinning: '0' } } } } as const;

/** The label written where a fixed-shape input cropped the image away. */
const NOT_COMPUTED = 255;

/**
 * Loads the package and its ONNX graph and checks they agree. Throws VXG_ERR_MODEL_NOT_FOUND,
 * VXG_ERR_MODEL_INVALID, VXG_ERR_MODEL_LOAD or VXG_ERR_MODEL_GRAPH.
 * @example
 * const engine = await createOnnxEngine({ model: 'models/brainchop-gwm' });
 * const labels = await engine.segment(t1, { classes: [133, 134] });
 */
export async function createOnnxEngine(options: OnnxEngineOptions): Promise<OnnxEngine> {
  const pkg = await loadModelPackage(options.model);
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(pkg.modelPath, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.intraOpThreads ?? os.availableParallelism(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      ...ENGINE_SESSION_EXTRA,
    });
  } catch (err) {
    throw new VoxgateError('VXG_ERR_MODEL_LOAD', `onnxruntime cannot load ${pkg.modelPath} (model "${pkg.spec.name}"): ${(err as Error).message}`, { cause: err });
  }
  try {
    return new OnnxEngine(pkg, session, checkGraph(pkg, session.inputMetadata, session.outputMetadata), options.stitchThread ?? true, options.stitchWorker);
  } catch (err) {
    await session.release();
    throw err;
  }
}

/** Where the time of the last `segment` went (in this thread; for benchmarks and logs). */
export interface OnnxRunStats {
  readonly windows: number;
  readonly batches: number;
  /** Σ of `session.run` wall times, ms. */
  readonly networkMs: number;
  /** The whole `segment` call, ms. */
  readonly totalMs: number;
}

export class OnnxEngine implements Engine {
  readonly info: EngineInfo;
  /** Timing of the last completed segmentation. */
  lastRun?: OnnxRunStats;
  readonly #pkg: ModelPackage;
  readonly #session: InferenceSession;
  readonly #binding: GraphBinding;
  /** The big per-request arrays, kept for the next request (src/volume/scratch-buffers.ts). */
  readonly #scratch = new ScratchBuffers();
  /** The blending weights of one window (the package fixes them): computed once. */
  readonly #weights: Float32Array | undefined;
  #scratchBusy = false;
  /** Where windows are blended while the network runs (stitch-thread.ts); started on first use. */
  #thread?: StitchThread;
  readonly #useThread: boolean;
  /** Set when the stitching thread cannot run here at all. */
  #threadBroken = false;
  readonly #stitchWorker?: URL;
  #closed = false;

  constructor(pkg: ModelPackage, session: InferenceSession, binding: GraphBinding, stitchThread = true, stitchWorker?: URL) {
    this.info = onnxEngineInfo(pkg);
    this.#useThread = stitchThread;
    this.#stitchWorker = stitchWorker;
    this.#pkg = pkg;
    this.#session = session;
    this.#binding = binding;
    const sw = pkg.spec.sliding_window;
    this.#weights = importanceMap(pkg.windowSize, sw?.blend ?? 'constant', sw?.sigma_scale);
  }

  isReady(): boolean {
    return !this.#closed;
  }

  async segment(volume: Volume, prompts: SegmentationPrompts, progress?: ProgressCallback): Promise<LabelVolume> {
    if (this.#closed) throw new VoxgateError('VXG_ERR_ENGINE_NOT_READY', 'The onnx engine is closed.');
    if (prompts.points) throw new VoxgateError('VXG_ERR_PROMPT_INVALID', 'The onnx engine does not take point prompts.');
    // Concurrent requests in one engine: the second works in fresh memory, not in the kept one.
    const scratch = this.#scratchBusy ? new ScratchBuffers(0) : this.#scratch;
    if (scratch === this.#scratch) this.#scratchBusy = true;
    try {
      try {
        return await this.#segment(volume, prompts, scratch, progress);
      } catch (err) {
        if (!(err instanceof StitchThreadFailure)) throw err;
        // The stitching thread failed: this request again with the windows blended in this thread;
        // a thread that never finished one (it cannot even load here) is not tried again.
        if (!this.#thread?.finished) this.#threadBroken = true;
        return await this.#segment(volume, prompts, scratch, progress, false);
      }
    } finally {
      if (scratch === this.#scratch) this.#scratchBusy = false;
    }
  }

  async #segment(volume: Volume, prompts: SegmentationPrompts, scratch: ScratchBuffers, progress?: ProgressCallback, threaded = true): Promise<LabelVolume> {
    const started = performance.now();
    let networkMs = 0;
    let batches = 0;
    let windows = 0;
    const pkg = this.#pkg;
    const { spec } = pkg;
    progress?.(0, 'preprocess');
    // With a stitching thread, the label map is shared with it (stitch-thread.ts).
    const thread = threaded && scratch === this.#scratch ? this.#stitchThread() : undefined;
    // The result is new memory (the caller keeps it): the thread faults its pages in while this
    // thread builds the model grid, rather than this thread in the last step.
    const result = thread ? new Uint8Array(new SharedArrayBuffer(voxelCount(volume.dims))) : undefined;
    const resultReady = result && thread?.prepare(result);
    // The foreground box is found on raw intensities: the transform comes after it.
    const grid = toModelGrid(volume, pkg.orientation, pkg.spacing, scratch, spec.foreground_crop ? undefined : spec.input.intensity);
    const labels = scratch.array<Uint8Array>('labels', 'uint8', grid.data.length, thread !== undefined).fill(0);
    const finish = async (): Promise<LabelVolume> => {
      progress?.(0.97, 'postprocess');
      await resultReady;
      let back: Uint8Array;
      if (thread && result) {
        // Both threads are idle now: each maps half of the result.
        const other = thread.mapBack(labels, result, grid, [1, 2]);
        back = labelsToInput(labels, grid, result, [0, 2]);
        if (!(await other)) labelsToInput(labels, grid, result, [1, 2]);
      } else {
        back = labelsToInput(labels, grid);
      }
      const out = createLabelVolume(volume, back);
      this.lastRun = { windows, batches, networkMs, totalMs: performance.now() - started };
      progress?.(1, 'done');
      return out;
    };

    let box: Box = wholeBox(grid.dims);
    if (spec.foreground_crop) {
      const found = foregroundBox(grid.data, grid.dims, spec.foreground_crop.threshold, spec.foreground_crop.margin);
      // Nothing above the threshold: all background, no need to run the network.
      if (!found) return finish();
      box = found;
    }
    const region = spec.shape ? centredBox(box, pkg.windowSize) : padBox(box, pkg.windowSize);
    if (spec.shape) fillOutside(labels, grid.dims, box, region, NOT_COMPUTED);

    const requested = new Set(prompts.classes);
    const wanted = (c: number): boolean => pkg.channelLabels[c] !== 0 && requested.has(pkg.channelLabels[c]);
    const all = pkg.channelLabels.map((_, c) => c);
    // Softmax needs every channel for its argmax; sigmoid channels are independent.
    const channels = spec.activation === 'softmax' ? all : all.filter(wanted);
    if (!all.some(wanted)) return finish();
    if (spec.foreground_crop) applyIntensity(grid.data, spec.input.intensity);

    const t = spec.threshold;
    const sinkOptions: LabelSinkOptions = {
      labels,
      grid: grid.dims,
      region,
      activation: spec.activation,
      channelLabels: channels.map((c) => (wanted(c) ? pkg.channelLabels[c] : 0)),
      threshold: spec.output_kind === 'logits' ? Math.log(t / (1 - t)) : t,
    };
    const sink = labelSink(sinkOptions);
    const roi = pkg.windowSize;
    const origins = windowOrigins(region.size, roi, spec.sliding_window?.overlap ?? 0);
    const single = origins.length === 1;
    const stitchOptions = { roi, channels, totalChannels: spec.channels };
    const blend = { ...stitchOptions, region: region.size, weights: this.#weights, weightSum: spec.activation === 'sigmoid' };
    const useThread = !single && thread !== undefined;
    const stitcher = single || useThread ? undefined : new WindowStitcher({ ...blend, scratch }, sink);
    if (useThread) thread.start({ ...blend, sink: sinkOptions });

    const batch = spec.sliding_window?.batch_size ?? 1;
    const runBatch = this.#binding.fixedBatch ?? Math.min(batch, origins.length);
    const roiVoxels = roi[0] * roi[1] * roi[2];
    const input = scratch.array<Float32Array>('input', 'float32', runBatch * roiVoxels);
    try {
      for (let first = 0; first < origins.length; first += batch) {
        const count = Math.min(batch, origins.length - first);
        for (let b = 0; b < count; b++) {
          const [x, y, z] = origins[first + b];
          const start: Triple = [region.start[0] + x, region.start[1] + y, region.start[2] + z];
          copyWindow(grid.data, grid.dims, start, roi, input, b * roiVoxels);
        }
        // A fixed batch larger than what is left runs with empty windows whose outputs are ignored.
        const size = this.#binding.fixedBatch ?? count;
        if (size > count) input.fill(0, count * roiVoxels);
        const before = performance.now();
        const output = await this.#run(size === runBatch ? input : input.subarray(0, size * roiVoxels), size);
        networkMs += performance.now() - before;
        batches++;
        windows += count;
        if (useThread) {
          await thread.add(output, origins.slice(first, first + count));
        } else {
          for (let b = 0; b < count; b++) {
            if (stitcher) stitcher.add(output, b, origins[first + b]);
            else sinkWholeWindow(output, b, stitchOptions, sink);
          }
        }
        progress?.(0.05 + (0.9 * (first + count)) / origins.length, `window ${first + count}/${origins.length}`);
      }
    } catch (err) {
      // The network failed: the stitching thread's half-done segmentation is not wanted.
      if (useThread) thread.abandon();
      throw err;
    }
    stitcher?.finish();
    if (useThread) await thread.finish();
    return finish();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#scratch.clear();
    await this.#thread?.close();
    await this.#session.release();
  }

  /** The stitching thread, started now if need be; undefined when turned off or it cannot run. */
  #stitchThread(): StitchThread | undefined {
    if (!this.#useThread || this.#threadBroken) return undefined;
    if (this.#thread?.alive) return this.#thread;
    try {
      this.#thread = new StitchThread(this.#stitchWorker);
      return this.#thread;
    } catch {
      // No worker threads here (or the module cannot load): stitch in this thread, as before.
      return undefined;
    }
  }

  /** One `session.run` on `size` windows; the output's scores, checked for shape. */
  async #run(data: Float32Array, size: number): Promise<Float32Array> {
    const [w0, w1, w2] = this.#pkg.windowSize;
    const { inputName, outputName } = this.#binding;
    const feeds = { [inputName]: new Tensor('float32', data, [size, 1, w2, w1, w0]) };
    let results;
    try {
      results = await this.#session.run(feeds, [outputName]);
    } catch (err) {
      throw new VoxgateError('VXG_ERR_ENGINE_FAILED', `The ONNX model "${this.#pkg.spec.name}" failed to run: ${(err as Error).message}`, { cause: err });
    }
    const output = results[outputName];
    if (output.type !== 'float32') {
      throw new VoxgateError('VXG_ERR_MODEL_GRAPH', `The ONNX model "${this.#pkg.spec.name}" returned ${output.type} scores; Voxgate reads float32.`);
    }
    checkOutputDims(this.#pkg, output.dims, size);
    return output.data as Float32Array;
  }
}
