/**
 * One SCU association with a DICOM peer, on dcmjs-dimse's `Network` machinery (through its exported
 * `Scp` class, which is that machinery plus request handlers) rather than its `Client`, because we
 * need what `Client` hides: our own socket (TCP_NODELAY, docs/design.md: 45 ms per C-STORE
 * otherwise), presentation contexts with an SCP role for C-GET's storage sub-operations, streaming
 * of those sub-operations to disk, and every way an association can end told apart (rejected,
 * aborted, timed out, refused, closed) as a {@link PeerError}.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import dcmjsDimse from 'dcmjs-dimse';
import type { Dataset as DimseDataset, association as dimseAssociation, requests as dimseRequests, responses as dimseResponses } from 'dcmjs-dimse';
import { PeerError, networkFailure } from './errors.js';
import { describeRejection, isTransientRejection } from './dimse-status.js';
import type { ReceivedInstance } from './store-receiver.js';
import { ReceivingWritable } from './store-receiver.js';
import { TransferSyntaxUids } from './part10.js';
import { hasControlCharacter } from './query-value.js';

const { Scp, Dataset, association: associationModule, responses, constants, log: dimseLog } = dcmjsDimse;

// dcmjs-dimse logs every PDU at info level to the console; Voxgate's errors carry what matters, and
// its logs go through pino. VOXGATE_DIMSE_LOG=info (or debug, warn …) shows the library's log again.
dimseLog.setLevel((process.env.VOXGATE_DIMSE_LOG as 'info' | undefined) ?? 'silent');

type Request = dimseRequests.Request;
type CStoreRequest = dimseRequests.CStoreRequest;
type CStoreResponse = dimseResponses.CStoreResponse;
type PresentationContext = dimseAssociation.PresentationContext;
type Association = dimseAssociation.Association;

/** A DICOM peer (spec/acr-api.md, the DIMSE resource entry). */
export interface DimsePeer {
  /** The peer's (called) AE title. */
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
  /** Voxgate's (calling) AE title; {@link DEFAULT_CALLING_AE_TITLE} when absent. */
  readonly callingAeTitle?: string;
}

export const DEFAULT_CALLING_AE_TITLE = 'VOXGATE';

/** An extra presentation context to propose. */
export interface ProposedContext {
  readonly abstractSyntaxUid: string;
  readonly transferSyntaxUids: readonly string[];
  /** Propose the SCP role too (PS3.7 D.3.3.4): the peer will send us C-STOREs of this SOP class. */
  readonly scpRole?: boolean;
}

export interface AssociationOptions {
  /** Connect, association and between-PDU timeout (default 30 s). */
  readonly timeoutMs?: number;
  readonly contexts?: readonly ProposedContext[];
  /** Where C-STORE sub-operations (C-GET) are written; they are refused without it. */
  readonly receiveDir?: string;
  /** Called for each instance received, before its C-STORE response is sent. */
  readonly onReceived?: (instance: ReceivedInstance) => void | Promise<void>;
}

/** The transfer syntaxes Voxgate reads, in order of preference (what it proposes and accepts). */
export const STORAGE_TRANSFER_SYNTAXES: readonly string[] = [
  TransferSyntaxUids.ExplicitVRLittleEndian,
  TransferSyntaxUids.ImplicitVRLittleEndian,
  TransferSyntaxUids.JPEG2000Lossless,
  TransferSyntaxUids.JPEGLSLossless,
  TransferSyntaxUids.JPEGLosslessSV1,
  TransferSyntaxUids.JPEGLossless,
  TransferSyntaxUids.RLELossless,
  TransferSyntaxUids.DeflatedExplicitVRLittleEndian,
  TransferSyntaxUids.JPEG2000,
  TransferSyntaxUids.JPEGLSNearLossless,
  TransferSyntaxUids.JPEGBaseline8Bit,
  TransferSyntaxUids.JPEGExtended12Bit,
  TransferSyntaxUids.ExplicitVRBigEndian,
];

/** Storage SOP classes Voxgate accepts as C-GET sub-operations (and in its store SCP). */
export const IMAGE_STORAGE_SOP_CLASSES: readonly string[] = [
  '1.2.840.10008.5.1.4.1.1.2', // CT Image Storage
  '1.2.840.10008.5.1.4.1.1.2.1', // Enhanced CT
  '1.2.840.10008.5.1.4.1.1.2.2', // Legacy Converted Enhanced CT
  '1.2.840.10008.5.1.4.1.1.4', // MR Image Storage
  '1.2.840.10008.5.1.4.1.1.4.1', // Enhanced MR
  '1.2.840.10008.5.1.4.1.1.4.3', // Enhanced MR Color
  '1.2.840.10008.5.1.4.1.1.4.4', // Legacy Converted Enhanced MR
  '1.2.840.10008.5.1.4.1.1.128', // PET
  '1.2.840.10008.5.1.4.1.1.128.1', // Legacy Converted Enhanced PET
  '1.2.840.10008.5.1.4.1.1.130', // Enhanced PET
  '1.2.840.10008.5.1.4.1.1.20', // Nuclear Medicine
  '1.2.840.10008.5.1.4.1.1.481.1', // RT Image
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture
  '1.2.840.10008.5.1.4.1.1.7.2', // Multi-frame Grayscale Byte SC
  '1.2.840.10008.5.1.4.1.1.7.3', // Multi-frame Grayscale Word SC
  '1.2.840.10008.5.1.4.1.1.66.4', // Segmentation
  '1.2.840.10008.5.1.4.1.1.1', // Computed Radiography
  '1.2.840.10008.5.1.4.1.1.1.1', // Digital X-Ray for presentation
  '1.2.840.10008.5.1.4.1.1.12.1', // X-Ray Angiographic
  '1.2.840.10008.5.1.4.1.1.6.1', // Ultrasound
];

const UNCOMPRESSED = [TransferSyntaxUids.ExplicitVRLittleEndian, TransferSyntaxUids.ImplicitVRLittleEndian];

/** `host:port`, as messages name a peer. */
export function peerName(peer: DimsePeer): string {
  return `${peer.host}:${peer.port}`;
}

/** Throws VXG_ERR_DIMSE_REQUEST unless the peer's AE titles, host and port can be used. */
export function checkPeer(peer: DimsePeer): void {
  const server = peerName(peer);
  const problem = (message: string): PeerError => new PeerError('VXG_ERR_DIMSE_REQUEST', `Cannot use the DICOM peer ${server}: ${message}`, { transient: false, server });
  for (const [name, value] of [['aeTitle', peer.aeTitle], ['callingAeTitle', peer.callingAeTitle ?? DEFAULT_CALLING_AE_TITLE]] as const) {
    if (!isAeTitle(value)) throw problem(`${name} must be 1–16 characters without backslash or control characters.`);
  }
  if (typeof peer.host !== 'string' || peer.host.trim() === '') throw problem('host is empty.');
  if (!Number.isInteger(peer.port) || peer.port < 1 || peer.port > 65535) throw problem('port must be an integer 1–65535.');
}

/** PS3.5 §6.2 AE: up to 16 characters of the default repertoire, no backslash, not only spaces. */
export function isAeTitle(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0 && value.length <= 16 && !value.includes('\\') && !hasControlCharacter(value);
}

/**
 * The SCU side of one association, built on dcmjs-dimse's Network (via `Scp`).
 * Incoming C-STORE requests (C-GET sub-operations) are streamed to `receiveDir`.
 */
class ScuConnection extends Scp {
  aborted: { source: number; reason: number } | undefined;
  readonly #receipts = new WeakMap<object, ReceivingWritable>();
  #receiveDir: string | undefined;
  #onReceived: AssociationOptions['onReceived'];
  #callingAeTitle = '';
  #calledAeTitle = '';

  configure(options: AssociationOptions, peer: DimsePeer): void {
    this.#receiveDir = options.receiveDir;
    this.#onReceived = options.onReceived;
    this.#callingAeTitle = peer.callingAeTitle ?? DEFAULT_CALLING_AE_TITLE;
    this.#calledAeTitle = peer.aeTitle;
  }

  override createStoreWritableStream(context: PresentationContext, request: CStoreRequest): Writable {
    const sink = new ReceivingWritable({
      dir: this.#receiveDir ?? '',
      sopClassUid: request.getAffectedSopClassUid(),
      sopInstanceUid: this.#receiveDir ? request.getAffectedSopInstanceUid() : '',
      transferSyntaxUid: context.getAcceptedTransferSyntaxUid() ?? '',
      callingAeTitle: this.#calledAeTitle, // the peer sends: it is the calling side of the sub-operation
      calledAeTitle: this.#callingAeTitle,
    });
    this.#receipts.set(request, sink);
    return sink;
  }

  override createDatasetFromStoreWritableStream(writable: Writable, _context: PresentationContext, callback: (dataset: DimseDataset) => void): void {
    // The dataset is on disk: the request gets an empty one, and cStoreRequest looks up the file.
    void (writable as ReceivingWritable).received.then(() => callback(new Dataset({})));
  }

  override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponse) => void): void {
    const sink = this.#receipts.get(request);
    const respond = (status: number): void => {
      const response = responses.CStoreResponse.fromRequest(request);
      response.setStatus(status);
      callback(response);
    };
    if (!sink) return respond(0xa700);
    void sink.received.then(async (result) => {
      if (result instanceof Error) return respond(this.#receiveDir ? 0xa700 : 0xc000);
      try {
        await this.#onReceived?.(result);
        respond(constants.Status.Success);
      } catch {
        respond(0xa700);
      }
    });
  }

  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
  }

  override abort(source: number, reason: number): void {
    this.aborted = { source, reason };
  }
}

/**
 * Opens an association with `peer`, sends `requests` one after another, releases it, and resolves
 * once the connection is closed. Responses arrive on each request's 'response' event as usual.
 * Rejects with a PeerError when the association is rejected, aborted, times out, cannot be
 * opened, or accepts no presentation context for one of the requests.
 */
export async function runAssociation(peer: DimsePeer, requests: readonly Request[], options: AssociationOptions = {}): Promise<void> {
  checkPeer(peer);
  if (options.receiveDir) await mkdir(options.receiveDir, { recursive: true });
  const server = peerName(peer);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const callingAeTitle = peer.callingAeTitle ?? DEFAULT_CALLING_AE_TITLE;
  const association: Association = new associationModule.Association(callingAeTitle, peer.aeTitle);
  for (const request of requests) association.addPresentationContextFromRequest(request, UNCOMPRESSED);
  for (const context of options.contexts ?? []) {
    const id = association.addPresentationContext(context.abstractSyntaxUid);
    for (const ts of context.transferSyntaxUids) association.addTransferSyntaxToPresentationContext(id, ts);
    if (context.scpRole) {
      const pc = association.getPresentationContext(id);
      pc.setUserRole(false);
      pc.setProviderRole(true);
    }
  }

  return new Promise<void>((resolve, reject) => {
    const socket: Socket = connect({ host: peer.host, port: peer.port, noDelay: true });
    const conn = new ScuConnection(socket, { connectTimeout: timeoutMs, associationTimeout: timeoutMs, pduTimeout: timeoutMs });
    conn.configure(options, peer);
    let socketError: NodeJS.ErrnoException | undefined;
    let networkError: Error | undefined;
    let failure: PeerError | undefined;
    let accepted = false;
    let released = false;
    let finished = false;

    socket.on('error', (err) => {
      socketError ??= err;
    });
    conn.on('connect', () => {
      socket.setNoDelay(true);
      conn.sendAssociationRequest(association);
    });
    conn.on('associationAccepted', (accepting: Association) => {
      accepted = true;
      const refused = requests.filter((r) => !accepting.getAcceptedPresentationContextFromRequest(r));
      if (refused.length > 0) {
        const classes = [...new Set(refused.map((r) => r.getAffectedSopClassUid() || r.getRequestedSopClassUid()))];
        failure = new PeerError('VXG_ERR_DIMSE_NO_CONTEXT', `The DICOM peer ${peer.aeTitle} at ${server} accepted no presentation context for SOP class ${classes.join(', ')}.`, {
          transient: false,
          server,
        });
        conn.sendAssociationReleaseRequest();
        return;
      }
      conn.sendRequests([...requests]);
    });
    conn.on('done', () => {
      finished = true;
      conn.sendAssociationReleaseRequest();
    });
    conn.on('associationReleaseResponse', () => {
      released = true;
      socket.end();
    });
    conn.on('associationRejected', ({ result, source, reason }: { result: number; source: number; reason: number }) => {
      failure = new PeerError('VXG_ERR_DIMSE_REJECTED', `The DICOM peer at ${server} rejected the association from ${callingAeTitle} to ${peer.aeTitle} (${describeRejection(result, source, reason)}).`, {
        transient: isTransientRejection(result),
        server,
      });
      socket.end();
    });
    conn.on('networkError', (err: Error) => {
      networkError ??= err;
      socket.destroy();
    });
    conn.on('close', () => {
      if (failure) return reject(failure);
      if (released || (finished && !networkError && !conn.aborted)) return resolve();
      if (conn.aborted) {
        return reject(new PeerError('VXG_ERR_DIMSE_ABORTED', `The DICOM peer ${peer.aeTitle} at ${server} aborted the association (A-ABORT source ${conn.aborted.source}, reason ${conn.aborted.reason}).`, { transient: true, server }));
      }
      if (networkError && /timeout/i.test(networkError.message)) {
        return reject(new PeerError('VXG_ERR_DIMSE_TIMEOUT', `The DICOM peer ${peer.aeTitle} at ${server} sent nothing for ${timeoutMs / 1000} s${accepted ? '' : ' (no association)'}.`, { transient: true, server, cause: networkError }));
      }
      if (!accepted) {
        return reject(new PeerError('VXG_ERR_DIMSE_UNREACHABLE', `The DICOM peer at ${server} ${socketError ? networkFailure(socketError) : 'closed the connection before answering the association request'}.`, { transient: true, server, cause: socketError ?? networkError }));
      }
      reject(new PeerError('VXG_ERR_DIMSE_ABORTED', `The DICOM peer ${peer.aeTitle} at ${server} dropped the connection in the middle of the association.`, { transient: true, server, cause: socketError ?? networkError }));
    });
  });
}
