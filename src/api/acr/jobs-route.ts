/**
 * `GET /api/jobs`: the newest jobs of every origin (ACR requests, studies the DICOM node received),
 * for the web page's jobs view and for operators. Voxgate's own route: neither the ACR spec nor MIG
 * lists jobs, so the shape is the spec's status body with the fields a list needs on top.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobStore } from '../../jobs/job-store.js';
import { JobStates } from '../../jobs/job.js';
import { statusOf } from './inference-routes.js';
import { AcrStatusSchema } from './schemas.js';

export interface JobsRouteOptions {
  store: JobStore;
}

const MAX_LIMIT = 500;

const JobsQuery = z.object({
  state: z
    .string()
    .optional()
    .describe('Comma-separated states to keep: Queued, InProcess, Completed (default: all).'),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(100).describe(`At most this many, newest first (1–${MAX_LIMIT}).`),
});

export const JobSummarySchema = AcrStatusSchema.extend({
  pipeline: z.string(),
  state: z.enum(JobStates),
  status: z.enum(['Unknown', 'Success', 'Fail']),
  progress: z.number().int().min(0).max(100),
  resultCount: z.number().int(),
});

const JobListSchema = z.object({ jobs: z.array(JobSummarySchema) });

const ProblemBody = z.object({ statusCode: z.number(), code: z.string(), error: z.string(), message: z.string() });

export const jobsRoute: FastifyPluginAsync<JobsRouteOptions> = async (app, { store }) => {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/jobs',
    {
      schema: {
        tags: ['acr'],
        summary: 'The newest jobs, with state, progress and message',
        querystring: JobsQuery,
        response: { 200: JobListSchema, 400: ProblemBody },
      },
    },
    async (request, reply) => {
      const names = request.query.state?.split(',').map((s) => s.trim()).filter((s) => s !== '') ?? [];
      const unknown = names.filter((s) => !(JobStates as readonly string[]).includes(s));
      if (unknown.length > 0) {
        return reply.code(400).send({
          statusCode: 400,
          code: 'VXG_ERR_REQUEST_INVALID',
          error: 'Bad Request',
          message: `Unknown job state "${unknown[0]}"; use ${JobStates.join(', ')}.`,
        });
      }
      const jobs = await store.list({ limit: request.query.limit, ...(names.length > 0 ? { states: names as (typeof JobStates)[number][] } : {}) });
      return reply.send({
        jobs: jobs.map((job) => ({
          ...statusOf(job),
          pipeline: job.pipeline,
          state: job.state,
          status: job.status,
          progress: Math.round(job.progress),
          resultCount: job.results.length,
        })),
      });
    },
  );
};
