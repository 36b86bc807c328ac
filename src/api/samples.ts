/**
 * Sample images for the web page: the NIfTI / NRRD files at the top level of the folders the
 * operator allows (`--allow-path`). `GET /api/samples` lists them (file names, absolute paths and
 * sizes; the NIM API takes the path as `image`), `GET /api/samples/file?path=…` sends one file's
 * bytes so that the page can display what it asks the API to segment. Nothing else below those
 * folders is listed or sent: sub-folders, other files and results written there stay private.
 * With API tokens on, both need a token like every API route.
 * @module
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { resolveAllowedPath } from '../pipeline/allowed-paths.js';

export interface SamplesOptions {
  /** The operator's allowed folders (config.allowPath, already absolute). */
  roots: readonly string[];
}

/** Names the page can display and the API decodes (spec/nim-api.md: NIfTI-1/2, NRRD). */
const SAMPLE_NAME = /\.(nii|nii\.gz|nrrd)$/i;
/** A folder of thousands of files must not become a huge answer. */
const MAX_SAMPLES = 500;

export const SampleSchema = z.object({
  name: z.string().describe('File name.'),
  path: z.string().describe('Absolute path: give it as `image` to POST /v1/vista3d/inference.'),
  bytes: z.number().int().describe('File size.'),
});
export const SampleListSchema = z.object({ samples: z.array(SampleSchema) });
const SampleQuerySchema = z.object({ path: z.string().min(1).describe('A path from GET /api/samples.') });

export type Sample = z.infer<typeof SampleSchema>;

/** The image files at the top level of `roots`, sorted by name (unreadable folders are skipped). */
export async function listSamples(roots: readonly string[]): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const root of roots) {
    const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!SAMPLE_NAME.test(entry.name) || !(entry.isFile() || entry.isSymbolicLink())) continue;
      const path = join(root, entry.name);
      // A link that leads out of the roots is not offered (the file route would refuse it too).
      const real = await resolveAllowedPath(path, roots, 'read').catch(() => undefined);
      const info = real ? await stat(real).catch(() => undefined) : undefined;
      if (info?.isFile()) samples.push({ name: entry.name, path, bytes: info.size });
    }
  }
  samples.sort((a, b) => a.name.localeCompare(b.name) || a.path.localeCompare(b.path));
  return samples.slice(0, MAX_SAMPLES);
}

export const sampleRoutes: FastifyPluginAsync<SamplesOptions> = async (app, { roots }) => {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get(
    '/api/samples',
    {
      schema: {
        tags: ['web'],
        summary: 'Image files at the top level of the allowed folders',
        response: { 200: SampleListSchema },
      },
    },
    async (_request, reply) => {
      reply.header('Cache-Control', 'no-store');
      return { samples: await listSamples(roots) };
    },
  );

  typed.get(
    '/api/samples/file',
    {
      schema: {
        tags: ['web'],
        summary: 'The bytes of one sample image (for display in the page)',
        description: 'The file as application/octet-stream; 404 `{statusCode, code: "VXG_ERR_SAMPLE_NOT_FOUND", error, message}` for a path GET /api/samples does not list.',
        querystring: SampleQuerySchema,
      },
    },
    async (request, reply) => {
      const { path } = request.query;
      const notFound = () =>
        reply.code(404).send({
          statusCode: 404,
          code: 'VXG_ERR_SAMPLE_NOT_FOUND',
          error: 'Not Found',
          message: `${basename(path)} is not one of the sample images (GET /api/samples lists them).`,
        });
      // Only what the listing offers: a sample name directly inside one of the roots.
      if (!SAMPLE_NAME.test(path) || !roots.includes(dirname(path))) return notFound();
      // The same containment check as the inference route: a link may not lead out of the roots.
      const real = await resolveAllowedPath(path, roots, 'read').catch(() => undefined);
      const info = real ? await stat(real).catch(() => undefined) : undefined;
      if (!real || !info?.isFile()) return notFound();
      return reply
        .type('application/octet-stream')
        .header('Content-Length', info.size)
        .header('Content-Disposition', `attachment; filename="${basename(path).replace(/["\\\r\n]/g, '_')}"`)
        .header('Cache-Control', 'private, no-store')
        .send(createReadStream(real));
    },
  );
};
