/**
 * Voxgate's own DICOM node, minimal: a C-ECHO and C-STORE SCP (dcmjs-dimse) that writes received
 * instances to `<storageDir>/<associationId>/<SOPInstanceUID>.dcm` as their bytes arrive. It is
 * where C-MOVE retrievals land (`cMoveInto` in dimse-client.ts subscribes to it) and what the AE-title routing
 * of the DICOM node builds on (`acceptAssociation`, `subscribe`).
 *
 * The net.Server is ours, not dcmjs-dimse's `Server`: we choose the listening address, turn Nagle
 * off on every socket (docs/design.md) and cap concurrent associations (the one over the cap is
 * rejected as transient "local limit exceeded", PS3.8 §9.3.4).
 * @module
 */
import { mkdirSync, unlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Writable } from 'node:stream';
import dcmjsDimse from 'dcmjs-dimse';
import type { Dataset as DimseDataset, association as dimseAssociation, requests as dimseRequests, responses as dimseResponses } from 'dcmjs-dimse';
import { IMAGE_STORAGE_SOP_CLASSES, STORAGE_TRANSFER_SYNTAXES, isAeTitle } from './dimse-association.js';
import type { ReceivedInstance } from './store-receiver.js';
import { ReceivingWritable } from './store-receiver.js';

const { Scp, Dataset, Implementation, responses, constants } = dcmjsDimse;
type Association = dimseAssociation.Association;
type PresentationContext = dimseAssociation.PresentationContext;
type CStoreRequest = dimseRequests.CStoreRequest;
type CEchoRequest = dimseRequests.CEchoRequest;
type CStoreResponse = dimseResponses.CStoreResponse;
type CEchoResponse = dimseResponses.CEchoResponse;

const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';

export interface AssociationRequestInfo {
  readonly associationId: string;
  readonly callingAeTitle: string;
  readonly calledAeTitle: string;
  readonly remoteAddress: string;
}

/** Accept, or reject with the PS3.8 reason that says why. */
export type AssociationDecision = true | { readonly reject: 'calling-ae' | 'called-ae' | 'busy' | 'no-reason' };

/**
 * Told about each stored instance before its C-STORE response is sent. Answer `true` to claim it
 * (you linked or copied it where it belongs; the SCP removes its own copy once every listener ran),
 * or `'moved'` when you renamed the file away (nothing is left to remove, and the listeners after
 * yours are not told).
 */
export type StoredListener = (instance: ReceivedInstance & { readonly associationId: string }) => StoredAnswer | Promise<StoredAnswer>;
export type StoredAnswer = boolean | 'moved' | void;

export interface StoreScpOptions {
  /** Voxgate's AE title: the called AE title accepted when `acceptAssociation` is not given. */
  readonly aeTitle: string;
  readonly storageDir: string;
  /** Listening address (default 127.0.0.1; the server command passes its --host). */
  readonly host?: string;
  /** Default 0: any free port (see `port` after start). */
  readonly port?: number;
  /** Concurrent associations (default 25); one more is rejected as transient. */
  readonly maxAssociations?: number;
  /** Association and between-PDU timeout (default 60 s). */
  readonly timeoutMs?: number;
  /** Storage SOP classes accepted (default: image storage, SEG included). */
  readonly sopClasses?: readonly string[];
  /** Decides on each association; default: accept when the called AE title is `aeTitle`. */
  readonly acceptAssociation?: (request: AssociationRequestInfo) => AssociationDecision;
  readonly onStored?: StoredListener;
}

/**
 * @example
 * const scp = await StoreScp.start({ aeTitle: 'VOXGATE', storageDir: '/data/incoming', port: 11112 });
 * scp.subscribe((instance) => console.log(instance.sopInstanceUid, instance.studyInstanceUid));
 * await scp.close();
 */
export class StoreScp {
  readonly aeTitle: string;
  readonly host: string;
  readonly #server: Server;
  readonly #options: StoreScpOptions;
  readonly #listeners = new Set<StoredListener>();
  readonly #sockets = new Set<Socket>();
  #associations = 0;
  #counter = 0;

  private constructor(server: Server, options: StoreScpOptions) {
    this.#server = server;
    this.#options = options;
    this.aeTitle = options.aeTitle;
    this.host = options.host ?? '127.0.0.1';
    if (options.onStored) this.#listeners.add(options.onStored);
  }

  /** Starts listening; resolves once the port is open. */
  static async start(options: StoreScpOptions): Promise<StoreScp> {
    if (!isAeTitle(options.aeTitle)) throw new TypeError('aeTitle must be 1–16 characters without backslash or control characters');
    await mkdir(options.storageDir, { recursive: true });
    const server = createServer({ noDelay: true });
    const scp = new StoreScp(server, options);
    server.on('connection', (socket) => scp.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, scp.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return scp;
  }

  /** The port it listens on. */
  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** Associations open now. */
  get activeAssociations(): number {
    return this.#associations;
  }

  /** Adds a listener for stored instances; returns its removal. */
  subscribe(listener: StoredListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops listening and ends every open association. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.#sockets.add(socket);
    const timeoutMs = this.#options.timeoutMs ?? 60_000;
    const associationId = `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${++this.#counter}`;
    const connection = new StoreScpConnection(socket, { connectTimeout: timeoutMs, associationTimeout: timeoutMs, pduTimeout: timeoutMs });
    connection.bind(this, associationId, socket.remoteAddress ?? '');
    // The library reports socket problems as events; without a listener they would be unhandled.
    connection.on('networkError', () => socket.destroy());
    socket.on('close', () => {
      this.#sockets.delete(socket);
      if (connection.counted) this.#associations--;
    });
  }

  /** @internal the decision for one association (cap first, then the AE titles). */
  decide(info: AssociationRequestInfo): AssociationDecision {
    if (this.#associations >= (this.#options.maxAssociations ?? 25)) return { reject: 'busy' };
    if (this.#options.acceptAssociation) return this.#options.acceptAssociation(info);
    return info.calledAeTitle.trim() === this.aeTitle.trim() ? true : { reject: 'called-ae' };
  }

  /** @internal */
  opened(): void {
    this.#associations++;
  }

  /** @internal */
  get options(): StoreScpOptions {
    return this.#options;
  }

  /** @internal runs the listeners; removes the SCP's copy when one claimed the instance. */
  async stored(instance: ReceivedInstance & { associationId: string }): Promise<void> {
    let claimed = false;
    let moved = false;
    for (const listener of [...this.#listeners]) {
      const answer = await listener(instance);
      if (answer === 'moved') {
        // The file is gone: later listeners could not use it (the DICOM node's instances to a
        // configured AE title are never also a C-MOVE retrieval's, whatever their study).
        moved = true;
        break;
      }
      if (answer === true) claimed = true;
    }
    if (claimed && !moved) {
      try {
        // Synchronous: a round trip through the thread pool would delay the C-STORE response.
        unlinkSync(instance.path);
      } catch {
        // already gone
      }
    }
  }
}

class StoreScpConnection extends Scp {
  counted = false;
  #scp!: StoreScp;
  #associationId = '';
  #remoteAddress = '';
  #callingAeTitle = '';
  #calledAeTitle = '';
  #dirMade = false;
  readonly #receipts = new WeakMap<object, ReceivingWritable>();

  bind(scp: StoreScp, associationId: string, remoteAddress: string): void {
    this.#scp = scp;
    this.#associationId = associationId;
    this.#remoteAddress = remoteAddress;
  }

  override associationRequested(association: Association): void {
    this.#callingAeTitle = association.getCallingAeTitle().trim();
    this.#calledAeTitle = association.getCalledAeTitle().trim();
    const decision = this.#scp.decide({
      associationId: this.#associationId,
      callingAeTitle: this.#callingAeTitle,
      calledAeTitle: this.#calledAeTitle,
      remoteAddress: this.#remoteAddress,
    });
    if (decision !== true) {
      const { RejectResult, RejectSource, RejectReason } = constants;
      const [result, source, reason] =
        decision.reject === 'busy'
          ? [RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.LocalLimitExceeded]
          : decision.reject === 'calling-ae'
            ? [RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized]
            : decision.reject === 'called-ae'
              ? [RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized]
              : [RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.NoReasonGiven];
      this.sendAssociationReject(result, source, reason);
      return;
    }
    this.counted = true;
    this.#scp.opened();
    // The A-ASSOCIATE-AC carries our own receive limit; dcmjs-dimse would echo the requestor's (16 KiB
    // from DCMTK), which makes the sender cut every instance into 16 KiB PDUs.
    association.setMaxPduLength(Implementation.getMaxPduLength());
    const sopClasses = new Set(this.#scp.options.sopClasses ?? IMAGE_STORAGE_SOP_CLASSES);
    for (const { id } of association.getPresentationContexts()) {
      const context = association.getPresentationContext(id);
      const abstractSyntax = context.getAbstractSyntaxUid();
      if (abstractSyntax !== VERIFICATION_SOP_CLASS && !sopClasses.has(abstractSyntax)) {
        context.setResult(constants.PresentationContextResult.RejectAbstractSyntaxNotSupported);
        continue;
      }
      // Our preference order among what the peer offers: the first we read, uncompressed first.
      const offered = context.getTransferSyntaxUids();
      const chosen = STORAGE_TRANSFER_SYNTAXES.find((ts) => offered.includes(ts));
      if (chosen) context.setResult(constants.PresentationContextResult.Accept, chosen);
      else context.setResult(constants.PresentationContextResult.RejectTransferSyntaxesNotSupported);
    }
    this.sendAssociationAccept();
  }

  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
  }

  override cEchoRequest(request: CEchoRequest, callback: (response: CEchoResponse) => void): void {
    const response = responses.CEchoResponse.fromRequest(request);
    response.setStatus(constants.Status.Success);
    callback(response);
  }

  override createStoreWritableStream(context: PresentationContext, request: CStoreRequest): Writable {
    const dir = path.join(this.#scp.options.storageDir, this.#associationId);
    if (!this.#dirMade) {
      mkdirSync(dir, { recursive: true }); // once per association, before the first file opens
      this.#dirMade = true;
    }
    const originator = request.getCommandDataset().getElement('MoveOriginatorApplicationEntityTitle');
    const sink = new ReceivingWritable({
      dir,
      sopClassUid: request.getAffectedSopClassUid(),
      sopInstanceUid: request.getAffectedSopInstanceUid(),
      transferSyntaxUid: context.getAcceptedTransferSyntaxUid() ?? '',
      callingAeTitle: this.#callingAeTitle,
      calledAeTitle: this.#calledAeTitle,
      // The association's folder is the SCP's own; listeners see a file only once it is complete.
      staged: false,
      ...(typeof originator === 'string' && originator.trim() ? { moveOriginatorAeTitle: originator.trim() } : {}),
    });
    this.#receipts.set(request, sink);
    return sink;
  }

  override createDatasetFromStoreWritableStream(writable: Writable, _context: PresentationContext, callback: (dataset: DimseDataset) => void): void {
    void (writable as ReceivingWritable).received.then(() => callback(new Dataset({})));
  }

  override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponse) => void): void {
    const respond = (status: number): void => {
      const response = responses.CStoreResponse.fromRequest(request);
      response.setStatus(status);
      callback(response);
    };
    const sink = this.#receipts.get(request);
    if (!sink) return respond(0xa700);
    void sink.received.then(async (result) => {
      // Edges translate (STYLE.md): a failure to store becomes "out of resources", never a crash.
      if (result instanceof Error) return respond(0xa700);
      try {
        await this.#scp.stored({ ...result, associationId: this.#associationId });
        respond(constants.Status.Success);
      } catch {
        respond(0xa700);
      }
    });
  }

  override abort(): void {
    // The peer aborted: the socket closes next and the counts follow.
  }
}
