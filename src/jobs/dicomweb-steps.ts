/**
 * DICOMweb as a job source and destination, on the protocol client (src/dicom/net/dicomweb-client.ts):
 * QIDO-RS resolves patient and accession inputs to studies, WADO-RS streams each target (study,
 * series or instance) into the job's folder, instances already there are skipped; STOW-RS sends a
 * result. Client errors say whether they are transient; the runner retries those.
 * @module
 */
import { DicomwebClient } from '../dicom/net/dicomweb-client.js';
import type { DataResource, HttpResource, InputDetails } from './request.js';
import { targetUnit, targetsOf, uniqueTargets } from './retrieve-targets.js';
import type { RetrieveTarget } from './retrieve-targets.js';
import type { ExportContext, ExportItem, ExportReceipt, Exporter, RetrieveContext, Retriever } from './steps.js';

export interface DicomwebStepOptions {
  /** Idle timeout of each request (default: the client's 60 s). */
  readonly timeoutMs?: number;
}

function clientFor(resource: DataResource, options: DicomwebStepOptions): DicomwebClient {
  const http = resource as HttpResource;
  return new DicomwebClient({
    uri: http.uri,
    auth: { type: http.authType, ...(http.authId ? { id: http.authId } : {}) },
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/**
 * @example
 * const steps = { retrievers: { DICOMweb: new DicomwebRetriever() }, exporters: { DICOMweb: new DicomwebExporter() }, segmenter };
 */
export class DicomwebRetriever implements Retriever {
  readonly #options: DicomwebStepOptions;

  constructor(options: DicomwebStepOptions = {}) {
    this.#options = options;
  }

  async retrieve(source: DataResource, inputs: readonly InputDetails[], context: RetrieveContext): Promise<void> {
    const { targets, queries } = targetsOf(inputs);
    if (targets.length === 0 && queries.length === 0) return;
    const client = clientFor(source, this.#options);
    try {
      for (const query of queries) {
        for (const study of await client.searchStudies(query, context.signal)) targets.push({ study: study.studyInstanceUid });
      }
      await fetchTargets(uniqueTargets(targets), client.server, context, async (target, onInstance) => {
        const result = await client.retrieve(target, context.folder, { skip: context.retrieved(), onInstance, signal: context.signal });
        return result.instances.map((i) => i.sopInstanceUid);
      });
    } finally {
      client.close();
    }
  }
}

/** STOW-RS of one result file (`POST {uri}studies`); a 202 is a success with a warning. */
export class DicomwebExporter implements Exporter {
  readonly #options: DicomwebStepOptions;

  constructor(options: DicomwebStepOptions = {}) {
    this.#options = options;
  }

  async export(destination: DataResource, item: ExportItem, context: ExportContext): Promise<ExportReceipt> {
    const client = clientFor(destination, this.#options);
    try {
      const result = await client.store([item.path], { signal: context.signal });
      if (result.status === 202) {
        const reasons = result.failed.map((f) => (f.failureReason === undefined ? 'failed' : `failed (0x${f.failureReason.toString(16).toUpperCase()})`));
        const warned = result.stored.filter((s) => s.warningReason !== undefined).map((s) => `stored with warning 0x${(s.warningReason ?? 0).toString(16).toUpperCase()}`);
        return { warning: `${item.result.name}: STOW-RS answered 202 (${[...reasons, ...warned].join(', ') || 'partial success'})` };
      }
      return {};
    } finally {
      client.close();
    }
  }
}

/**
 * Fetches each target not completed before, recording every instance as it lands and the target
 * once it is complete; progress counts targets.
 */
export async function fetchTargets(
  targets: readonly RetrieveTarget[],
  sourceKey: string,
  context: RetrieveContext,
  fetch: (target: RetrieveTarget, onInstance: (instance: { sopInstanceUid: string; path: string }) => Promise<void>) => Promise<readonly string[]>,
): Promise<void> {
  let received = 0;
  for (const [n, target] of targets.entries()) {
    const unit = targetUnit(sourceKey, target);
    if (context.hasUnit(unit)) continue;
    context.progress(n / targets.length, `Retrieving ${describeTarget(target)} (${n + 1} of ${targets.length}).`);
    const uids = await fetch(target, async (instance) => {
      if (await context.addInstance(instance.sopInstanceUid, { file: instance.path })) received++;
      if (received % 10 === 0) context.progress(n / targets.length, `Retrieving ${describeTarget(target)}: ${received} instances so far.`);
    });
    await context.completeUnit(unit, uids);
  }
  context.progress(1);
}

function describeTarget(target: RetrieveTarget): string {
  if (target.instance) return `instance ${target.instance}`;
  if (target.series) return `series ${target.series}`;
  return `study ${target.study}`;
}
