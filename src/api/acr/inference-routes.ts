/**
 * The ACR / Clara inference request API (spec/acr-api.md): `POST /api/inference` (and MIG's
 * `/inference`) queues a job and answers once it is stored; `GET /api/inference/status/{id}` reports
 * it; `GET /api/inference/{jobId}/results[/{file}]` lists and serves what it made.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isVoxgateError } from '../../errors.js';
import { isJobId, isSafeResultName, resultsFolder } from '../../jobs/job-files.js';
import type { JobStore } from '../../jobs/job-store.js';
import type { JobRecord } from '../../jobs/job.js';
import type { Pipeline } from '../../jobs/pipelines.js';
import { priorityName } from '../../jobs/request.js';
import { parseAcrRequest } from './parse-request.js';
import type { Problem } from './problems.js';
import { PROBLEM_MEDIA_TYPE, ProblemTitles, problem } from './problems.js';
import { AcrAcceptedSchema, AcrRequestDocSchema, AcrStatusSchema, ProblemSchema, ResultListSchema } from './schemas.js';

export interface AcrRouteOptions {
  store: JobStore;
  pipelines: ReadonlyMap<string, Pipeline>;
  dataDir: string;
  /** Called after a job is stored (a worker in this process looks for it at once). */
  onQueued?: (job: JobRecord) => void;
}

const IdParams = z.object({ id: z.string().min(1) });
const ResultParams = z.object({ jobId: z.string().min(1), file: z.string().min(1) });

/** Sends a problem body (any route's reply: the body matches each route's problem schema). */
function sendProblem(reply: Pick<FastifyReply, 'code'>, body: Problem): FastifyReply {
  return reply.code(body.status).type(PROBLEM_MEDIA_TYPE).send(body);
}

function notFound(): Problem {
  return problem(404, ProblemTitles.notFound, 'Unable to locate the specified request.', 'VXG_ERR_JOB_NOT_FOUND');
}

/** A job by jobId or transactionID (the status route accepts either). */
async function findJob(store: JobStore, id: string): Promise<JobRecord | undefined> {
  return (isJobId(id) ? await store.get(id) : undefined) ?? (await store.getByTransactionId(id));
}

/** The spec's status body for a job. */
export function statusOf(job: JobRecord): z.infer<typeof AcrStatusSchema> {
  const failed = job.status === 'Fail';
  return {
    transactionId: job.transactionId,
    jobId: job.jobId,
    platform: {
      jobId: job.jobId,
      status: job.state === 'Queued' ? 'Unknown' : failed ? 'Faulted' : 'Healthy',
      state: job.state === 'Queued' ? 'Pending' : job.state === 'InProcess' ? 'Running' : 'Stopped',
      priority: priorityName(job.priority),
      created: job.created.toISOString(),
      started: job.started?.toISOString() ?? null,
      stopped: job.stopped?.toISOString() ?? null,
      progress: Math.round(job.progress),
    },
    dicom: { state: job.state, status: job.status },
    message: job.message,
  };
}

export const acrRoutes: FastifyPluginAsync<AcrRouteOptions> = async (app, { store, pipelines, dataDir, onQueued }) => {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  app.setErrorHandler(async (err: Error & { code?: string; statusCode?: number }, request, reply) => {
    switch (err.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(reply, problem(400, ProblemTitles.badRequest, `The body is not valid JSON: ${err.message}`, 'VXG_ERR_REQUEST_INVALID'));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(reply, problem(415, 'Unsupported Media Type', 'Send the request as application/json.', 'VXG_ERR_REQUEST_INVALID'));
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(reply, problem(413, 'Payload Too Large', 'The request body is larger than the server accepts.', 'VXG_ERR_REQUEST_INVALID'));
    }
    if (isVoxgateError(err) && err.statusCode < 500) return sendProblem(reply, problem(err.statusCode, err.code, err.message, err.code));
    request.log.error({ err }, 'ACR request failed');
    const code = isVoxgateError(err) ? err.code : 'VXG_ERR_INTERNAL';
    return sendProblem(reply, problem(500, request.method === 'POST' ? ProblemTitles.saveFailed : ProblemTitles.statusFailed, 'Internal error; the server log has the details.', code));
  });

  const accept = {
    schema: {
      tags: ['acr'],
      summary: 'Queue an inference request (ACR / Clara DICOM Adapter / MONAI Informatics Gateway)',
      description:
        'Retrieve from `inputResources`, segment with the pipeline the Algorithm `id` names, export a DICOM SEG per series to `outputResources`. The job is stored before the answer. Property names and enum values match case-insensitively. `/inference` is the same route under MIG\'s path.',
      body: AcrRequestDocSchema,
      response: { 200: AcrAcceptedSchema, 400: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema, 500: ProblemSchema },
    },
    // parse-request.ts validates (case-insensitive names, the spec's messages); the schema documents.
    attachValidation: true,
  };
  for (const url of ['/api/inference', '/inference']) {
    typed.post(url, accept, async (request, reply) => {
      const parsed = parseAcrRequest(request.body, pipelines);
      if (!parsed.ok) {
        const title = parsed.status === 422 ? ProblemTitles.invalid : ProblemTitles.badRequest;
        return sendProblem(reply, problem(parsed.status, title, parsed.detail, 'VXG_ERR_REQUEST_INVALID'));
      }
      let job: JobRecord;
      try {
        job = await store.create({ jobId: randomUUID(), request: parsed.request });
      } catch (err) {
        if (isVoxgateError(err, 'VXG_ERR_JOB_DUPLICATE')) return sendProblem(reply, problem(409, ProblemTitles.conflict, err.message, err.code));
        throw err;
      }
      onQueued?.(job);
      return reply.send({ transactionId: job.transactionId, jobId: job.jobId });
    });
  }

  const status = {
    schema: {
      tags: ['acr'],
      summary: 'Status of an inference request',
      description: '`{id}` is the transactionID or the jobId. `/inference/status/{id}` is the same route under MIG\'s path.',
      params: IdParams,
      response: { 200: AcrStatusSchema, 404: ProblemSchema, 500: ProblemSchema },
    },
  };
  for (const url of ['/api/inference/status/:id', '/inference/status/:id']) {
    typed.get(url, status, async (request, reply) => {
      const job = await findJob(store, request.params.id);
      if (!job) return sendProblem(reply, notFound());
      return reply.send(statusOf(job));
    });
  }

  typed.get(
    '/api/inference/:id/results',
    {
      schema: {
        tags: ['acr'],
        summary: 'Result files of an inference request (DICOM SEG and NIfTI per series)',
        params: IdParams,
        response: { 200: ResultListSchema, 404: ProblemSchema },
      },
    },
    async (request, reply) => {
      const job = await findJob(store, request.params.id);
      if (!job) return sendProblem(reply, notFound());
      return reply.send({
        jobId: job.jobId,
        transactionId: job.transactionId,
        results: job.results.map((r) => ({ ...r, url: `/api/inference/${job.jobId}/results/${encodeURIComponent(r.name)}` })),
      });
    },
  );

  typed.get(
    '/api/inference/:jobId/results/:file',
    { schema: { tags: ['acr'], summary: 'Download one result file', params: ResultParams } },
    async (request, reply) => {
      const { jobId, file } = request.params;
      const job = await findJob(store, jobId);
      if (!job) return sendProblem(reply, notFound());
      // Only names the job recorded are served: a path or a name of another job's file never reaches the file system.
      const result = isSafeResultName(file) ? job.results.find((r) => r.name === file) : undefined;
      if (!result) {
        return sendProblem(reply, problem(404, ProblemTitles.resultNotFound, `Job ${job.jobId} has no result named "${file}".`, 'VXG_ERR_JOB_RESULT_NOT_FOUND'));
      }
      return reply
        .type(result.mediaType)
        .header('Content-Length', result.size)
        .header('Content-Disposition', `attachment; filename="${result.name}"`)
        .send(createReadStream(join(resultsFolder(dataDir, job.jobId), result.name)));
    },
  );
};
