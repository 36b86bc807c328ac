/**
 * The onnx engine's stitching thread: blends the windows of one segmentation into its bands
 * (stitcher.ts, SIMD kernel) and writes the labels of each finished slice (activation.ts) into the
 * engine's shared label map, while the engine's own thread runs the network on the next batch.
 * Its kernel memory is kept from one segmentation to the next (src/volume/scratch-buffers.ts).
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { labelSink } from './activation.js';
import { labelsToInput } from './model-grid.js';
import { OrientationTransform } from '../../volume/reorient.js';
import { ScratchBuffers } from '../../volume/scratch-buffers.js';
import type { StitchReply, StitchRequest } from './stitch-protocol.js';
import { WindowStitcher } from './stitcher.js';

const port = parentPort;
if (!port) throw new Error('stitch-worker.ts runs as a worker thread (stitch-thread.ts starts it).');

const scratch = new ScratchBuffers();
let stitcher: WindowStitcher | undefined;
/** Why this segmentation's stitching failed; later batches are acknowledged unread, `finish` reports it. */
let failure: string | undefined;

const reply = (message: StitchReply): void => port.postMessage(message);
const attempt = (work: () => void): void => {
  if (failure !== undefined) return;
  try {
    work();
  } catch (err) {
    failure = (err as Error).message;
    stitcher = undefined;
  }
};

/** Bytes between two writes that fault in every page (4 KiB, the smallest page size). */
const PAGE = 4096;

port.on('message', (message: StitchRequest) => {
  switch (message.kind) {
    case 'prepare': {
      // A write, not a read: reading an untouched page maps the shared zero page, and the engine's
      // first write would still fault. The memory is still all zeros: writing 0 changes nothing.
      const { memory } = message;
      for (let n = 0; n < memory.length; n += PAGE) memory[n] = 0;
      reply({ kind: 'prepared' });
      return;
    }
    case 'start':
      failure = undefined;
      attempt(() => {
        const { region, roi, channels, totalChannels, weights, weightSum } = message;
        stitcher = new WindowStitcher({ region, roi, channels, totalChannels, weights, weightSum, scratch }, labelSink(message.sink));
      });
      return;
    case 'map-back': {
      const { labels, result, grid, share } = message;
      try {
        const { permutation, flips, inputDims } = grid.transform;
        labelsToInput(labels, { ...grid, transform: new OrientationTransform(permutation, flips, inputDims) }, result, share);
        reply({ kind: 'mapped' });
      } catch (err) {
        reply({ kind: 'map-failed', message: (err as Error).message });
      }
      return;
    }
    case 'batch':
      attempt(() => message.origins.forEach((origin, b) => stitcher?.add(message.output, b, origin)));
      reply({ kind: 'blended' });
      return;
    case 'finish':
      attempt(() => stitcher?.finish());
      stitcher = undefined;
      reply(failure === undefined ? { kind: 'finished' } : { kind: 'failed', message: failure });
      return;
  }
});
