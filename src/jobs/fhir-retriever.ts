/**
 * FHIR as a job source: `GET {uri}{type}/{id}` for each FHIR_RESOURCE input (src/dicom/net/fhir-client.ts),
 * stored with the job as received. DICOM inputs are not a FHIR server's to answer and are ignored.
 * @module
 */
import { FhirClient } from '../dicom/net/fhir-client.js';
import type { DataResource, HttpResource, InputDetails } from './request.js';
import type { RetrieveContext, Retriever } from './steps.js';

export class FhirRetriever implements Retriever {
  readonly #timeoutMs: number | undefined;

  constructor(options: { timeoutMs?: number } = {}) {
    this.#timeoutMs = options.timeoutMs;
  }

  async retrieve(source: DataResource, inputs: readonly InputDetails[], context: RetrieveContext): Promise<void> {
    const wanted = inputs.flatMap((input) => (input.type === 'FHIR_RESOURCE' ? input.resources.map((resource) => ({ resource, input })) : []));
    if (wanted.length === 0) return;
    const http = source as HttpResource;
    const client = new FhirClient({
      uri: http.uri,
      auth: { type: http.authType, ...(http.authId ? { id: http.authId } : {}) },
      ...(this.#timeoutMs ? { timeoutMs: this.#timeoutMs } : {}),
    });
    try {
      for (const [n, { resource, input }] of wanted.entries()) {
        const key = `${resource.resourceType}/${resource.id}`;
        if (context.hasUnit(`fhir:${key}`)) continue;
        context.progress(n / wanted.length, `Reading FHIR ${resource.resourceType} (${n + 1} of ${wanted.length}).`);
        const read = await client.read(resource.resourceType, resource.id, { fhirVersion: input.fhirVersion, fhirFormat: input.fhirFormat, signal: context.signal });
        await context.addResource(key, read.body, input.fhirFormat === 'Xml' ? 'xml' : 'json');
        await context.completeUnit(`fhir:${key}`, []);
      }
    } finally {
      client.close();
    }
  }
}
