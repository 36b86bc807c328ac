/**
 * `POST /v1/vista3d/inference`: JSON or multipart in; zip, the label file, or a JSON summary out.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { Engine } from '../../engines/engine.js';
import { VoxgateError, isVoxgateError } from '../../errors.js';
import type { ImageInput, InferenceLimits, InferenceResult } from '../../pipeline/inference.js';
import { runInference } from '../../pipeline/inference.js';
import type { InferenceRunner } from '../../jobs/offloaded-inference.js';
import { summarizeLabels } from '../../pipeline/label-summary.js';
import type { Slots } from '../../pipeline/slots.js';
import { affineRows } from '../../volume/affine.js';
import { createZip } from '../../pipeline/zip.js';
import type { Metrics } from '../metrics.js';
import type { NimProblem } from './problems.js';
import { errorProblem, internalProblem, jsonProblem, schemaProblem } from './problems.js';
import { NimDetailSchema, NimErrorSchema, NimInferenceRequestSchema, NimUploadRequestSchema } from './schemas.js';

export interface InferenceRouteOptions {
  engine: Engine;
  limits: InferenceLimits;
  slots: Slots;
  metrics: Metrics;
  /** Where multipart uploads are spooled while a request runs. */
  uploadDir: string;
  maxUploadBytes: number;
  /**
   * Runs requests somewhere else instead of with `engine` under `slots` (nimInference: workers,
   * offloaded-inference.ts); the answer is the same.
   */
  offload?: InferenceRunner;
}

type Answer = 'zip' | 'file' | 'json';

/** Chooses the answer from `Accept` (first listed wins; zip is the NIM default). */
export function answerKind(accept: string | undefined): Answer {
  for (const part of (accept ?? '').split(',')) {
    const type = part.split(';')[0].trim().toLowerCase();
    if (type === 'application/json') return 'json';
    if (type === 'application/gzip' || type === 'application/x-gzip' || type === 'application/octet-stream') return 'file';
    if (type === 'application/zip' || type === '*/*') return 'zip';
  }
  return 'zip';
}

class RequestSchemaError extends Error {
  constructor(readonly problem: NimProblem) {
    super('request schema');
  }
}

function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RequestSchemaError(schemaProblem(parsed.error));
  return parsed.data;
}

export const inferenceRoute: FastifyPluginAsync<InferenceRouteOptions> = async (app, options) => {
  const { engine, limits, slots, metrics } = options;

  app.setErrorHandler(async (err: Error & { code?: string; statusCode?: number }, request, reply) => {
    const problem = problemFor(err);
    if (problem.statusCode >= 500) request.log.error({ err }, 'inference failed');
    return reply.code(problem.statusCode).send(problem.body);
  });

  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/vista3d/inference',
    {
      schema: {
        tags: ['vista3d'],
        summary: 'Segment a CT volume',
        description:
          'Send JSON `{"image": URL, "prompts": {...}}` (or multipart/form-data with a file part `image` and a JSON part `request`). The answer is a zip holding `<stem>_seg.nii.gz`; `Accept: application/gzip` gives the file itself, `Accept: application/json` a per-label summary.',
        body: NimInferenceRequestSchema,
        response: { 400: NimErrorSchema, 422: NimDetailSchema, 503: NimErrorSchema, 500: NimDetailSchema },
      },
      // Validation happens in the handler, so multipart bodies and the spec's 422 shape are ours to control.
      attachValidation: true,
    },
    async (request, reply) => {
      // Handed to workers, their engines are the ones that must be ready.
      if (!options.offload && !engine.isReady()) {
        throw new VoxgateError('VXG_ERR_ENGINE_NOT_READY', `The ${engine.info.name} engine is not ready yet; retry when /v1/health/ready answers 200.`);
      }
      const spooled: string[] = [];
      try {
        const { image, fields } = request.isMultipart()
          ? await readMultipart(request, options, spooled)
          : (() => {
              const body = parseBody(NimInferenceRequestSchema, request.body);
              return { image: { ref: body.image } as ImageInput, fields: body };
            })();
        const controller = new AbortController();
        // A client that hangs up stops its download (the response socket closes before we answer).
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) controller.abort();
        });
        const inference = {
          image,
          prompts: fields.prompts ?? undefined,
          localWorkingDir: fields.local_working_dir ?? undefined,
          output: fields.output ?? { extension: '.nii.gz' as const, dtype: 'uint8' as const },
        };
        const context = { engine, limits, signal: controller.signal };
        // Handed to workers, the fleet limits concurrency; here, the slots do.
        const result = options.offload ? await options.offload(inference, context) : await slots.run(() => runInference(inference, context));
        observe(metrics, result);
        // The upload is read: gone before the answer goes out, so a client that reads the answer
        // finds no spooled file left (removed only after sending, it was still there for a client
        // that looked at once: a CI run listed it).
        await removeSpooled(spooled);
        return sendResult(reply, result, answerKind(request.headers.accept));
      } catch (err) {
        metrics.inferenceTotal.inc({ engine: engine.info.name, outcome: isVoxgateError(err) && err.statusCode < 500 ? 'client_error' : 'server_error' });
        throw err;
      } finally {
        await removeSpooled(spooled);
      }
    },
  );
};

/** Removes the spooled uploads (again harmless: an upload already removed is skipped). */
async function removeSpooled(spooled: string[]): Promise<void> {
  await Promise.all(spooled.splice(0).map((path) => rm(path, { force: true })));
}

function observe(metrics: Metrics, result: InferenceResult): void {
  const { timing } = result;
  for (const [stage, ms] of Object.entries(timing)) metrics.inferenceSeconds.observe({ engine: result.engine, stage }, ms / 1000);
  metrics.inferenceSeconds.observe({ engine: result.engine, stage: 'total' }, (timing.fetch + timing.decode + timing.engine + timing.encode) / 1000);
  metrics.inferenceTotal.inc({ engine: result.engine, outcome: 'ok' });
}

function sendResult(reply: FastifyReply, result: InferenceResult, kind: Answer): FastifyReply {
  const t = result.timing;
  reply.header('X-Voxgate-Engine', result.engine);
  if (result.worker) reply.header('X-Voxgate-Worker', result.worker);
  reply.header('X-Voxgate-Timing', `fetch=${t.fetch.toFixed(1)};decode=${t.decode.toFixed(1)};engine=${t.engine.toFixed(1)};encode=${t.encode.toFixed(1)}`);
  reply.header('Server-Timing', Object.entries(t).map(([k, v]) => `${k};dur=${v.toFixed(1)}`).join(', '));
  if (Object.keys(result.zeroShot).length > 0) {
    reply.header('X-Voxgate-Zero-Shot-Labels', Object.entries(result.zeroShot).map(([name, index]) => `${encodeURIComponent(name)}=${index}`).join(','));
  }
  if (kind === 'json') {
    return reply.type('application/json').send({
      file: result.fileName,
      path: result.writtenPath ?? null,
      shape: result.labels.dims,
      affine: affineRows(result.labels.affine),
      engine: result.engine,
      timing_ms: t,
      labels: summarizeLabels(result.labels, { ...result.labelNames, ...Object.fromEntries(Object.entries(result.zeroShot).map(([n, i]) => [i, n])) }),
    });
  }
  if (kind === 'file') {
    return reply
      .type(result.fileName.endsWith('.gz') ? 'application/gzip' : 'application/octet-stream')
      .header('Content-Disposition', `attachment; filename="${result.fileName}"`)
      .send(result.bytes);
  }
  return reply
    .type('application/zip')
    .header('Content-Disposition', `attachment; filename="${result.stem}_seg.zip"`)
    .send(createZip([{ name: result.fileName, data: result.bytes }]));
}

async function readMultipart(
  request: FastifyRequest,
  options: InferenceRouteOptions,
  spooled: string[],
): Promise<{ image: ImageInput; fields: z.infer<typeof NimUploadRequestSchema> }> {
  let image: ImageInput | undefined;
  let fields: unknown = {};
  await mkdir(options.uploadDir, { recursive: true });
  for await (const part of request.parts({ limits: { fileSize: options.maxUploadBytes, files: 1, fields: 4, fieldSize: 1024 * 1024 } })) {
    if (part.type === 'file') {
      if (part.fieldname !== 'image') {
        part.file.resume();
        throw new RequestSchemaError({ statusCode: 422, body: { detail: [{ loc: ['body', part.fieldname], msg: 'Unexpected file part; send the image as the part named "image"', type: 'extra_forbidden' }], code: 'VXG_ERR_REQUEST_INVALID' } });
      }
      // Spool to disk: a 1 GB upload must not sit in memory while other parts are read.
      const path = join(options.uploadDir, `${randomUUID()}.upload`);
      spooled.push(path);
      await pipeline(part.file, createWriteStream(path));
      if (part.file.truncated) {
        throw new VoxgateError('VXG_ERR_IMAGE_TOO_LARGE', `The uploaded image is larger than the ${options.maxUploadBytes}-byte limit.`);
      }
      image = { name: part.filename || 'image', body: createReadStream(path) };
    } else if (part.fieldname === 'request') {
      try {
        fields = JSON.parse(String(part.value));
      } catch (err) {
        throw new RequestSchemaError(jsonProblem((err as Error).message));
      }
    }
  }
  if (!image) {
    throw new RequestSchemaError({ statusCode: 422, body: { detail: [{ loc: ['body', 'image'], msg: 'Field required: a file part named "image"', type: 'missing' }], code: 'VXG_ERR_REQUEST_INVALID' } });
  }
  return { image, fields: parseBody(NimUploadRequestSchema, fields) };
}

function problemFor(err: Error & { code?: string; statusCode?: number }): NimProblem {
  if (err instanceof RequestSchemaError) return err.problem;
  if (isVoxgateError(err)) return errorProblem(err);
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return jsonProblem(err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return jsonProblem('the body must be application/json or multipart/form-data');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return { statusCode: 413, body: { detail: 'The request body is larger than the server accepts; reference large images by URL.', code: 'VXG_ERR_REQUEST_INVALID' } };
  }
  if (err instanceof SyntaxError) return jsonProblem(err.message);
  return internalProblem(err.message);
}
