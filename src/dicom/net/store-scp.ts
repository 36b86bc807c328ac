/**
 * Voxgate's own DICOM node, minimal: a C-ECHO and C-STORE SCP that writes received instances to
 * `<storageDir>/<associationId>/<SOPInstanceUID>.dcm` as their bytes arrive. It is where C-MOVE
 * retrievals land (`cMoveInto` in dimse-client.ts subscribes to it) and what the AE-title routing
 * of the DICOM node builds on (`acceptAssociation`, `subscribe`).
 *
 * The protocol is our own (scp-association.ts: dcmjs-dimse's receive path cost three times
 * storescp's CPU per instance, bench/dicom-node.ts); this module decides: which associations
 * (the cap first, rejected as transient "local limit exceeded", PS3.8 §9.3.4; then the AE titles),
 * which presentation contexts, and where each dataset goes. The net.Server is ours too: we choose
 * the listening address and turn Nagle off on every socket (docs/design.md).
 * @module
 */
import { mkdirSync, unlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import path from 'node:path';
import { DimseStatus } from './dimse-command.js';
import { IMAGE_STORAGE_SOP_CLASSES, STORAGE_TRANSFER_SYNTAXES, isAeTitle } from './dimse-association.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './part10.js';
import type { AssociateAnswer, ScpHandler, StoreRequest, StoreSink } from './scp-association.js';
import { ScpAssociation } from './scp-association.js';
import type { ReceivedInstance } from './store-receiver.js';
import { InstanceReceipt } from './store-receiver.js';
import type { AssociateRq, PresentationContextAnswer } from './upper-layer.js';
import { PresentationContextResult, Rejections } from './upper-layer.js';

const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';
/**
 * Our receive limit for P-DATA-TF PDUs, as dcmjs-dimse's was (256 KiB): the sender cuts datasets
 * to it (DCMTK proposes 16 KiB itself; echoing that would cut a CT slice into 32 PDUs).
 */
const MAX_PDU_LENGTH = 256 * 1024;

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
    this.#sockets.add(socket);
    const associationId = `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${++this.#counter}`;
    const handler = new StoreHandler(this, associationId, socket.remoteAddress ?? '');
    const association = new ScpAssociation(socket, handler, {
      timeoutMs: this.#options.timeoutMs ?? 60_000,
      identity: { maxPduLength: MAX_PDU_LENGTH, implementationClassUid: IMPLEMENTATION_CLASS_UID, implementationVersionName: IMPLEMENTATION_VERSION_NAME },
    });
    socket.on('close', () => {
      this.#sockets.delete(socket);
      if (association.accepted) this.#associations--;
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

/** The decisions for one association: which presentation contexts, and where each dataset goes. */
class StoreHandler implements ScpHandler {
  readonly #scp: StoreScp;
  readonly #associationId: string;
  readonly #remoteAddress: string;
  #callingAeTitle = '';
  #calledAeTitle = '';
  #dirMade = false;

  constructor(scp: StoreScp, associationId: string, remoteAddress: string) {
    this.#scp = scp;
    this.#associationId = associationId;
    this.#remoteAddress = remoteAddress;
  }

  associate(request: AssociateRq): AssociateAnswer {
    this.#callingAeTitle = request.callingAeTitle;
    this.#calledAeTitle = request.calledAeTitle;
    const decision = this.#scp.decide({
      associationId: this.#associationId,
      callingAeTitle: this.#callingAeTitle,
      calledAeTitle: this.#calledAeTitle,
      remoteAddress: this.#remoteAddress,
    });
    if (decision !== true) {
      const reject = {
        busy: Rejections.localLimitExceeded,
        'calling-ae': Rejections.callingAeTitleNotRecognized,
        'called-ae': Rejections.calledAeTitleNotRecognized,
        'no-reason': Rejections.noReasonGiven,
      }[decision.reject];
      return { reject };
    }
    this.#scp.opened();
    const sopClasses = new Set(this.#scp.options.sopClasses ?? IMAGE_STORAGE_SOP_CLASSES);
    const accept = request.presentationContexts.map((context): PresentationContextAnswer => {
      const first = context.transferSyntaxUids[0] ?? '';
      if (context.abstractSyntaxUid !== VERIFICATION_SOP_CLASS && !sopClasses.has(context.abstractSyntaxUid)) {
        return { id: context.id, result: PresentationContextResult.AbstractSyntaxNotSupported, transferSyntaxUid: first };
      }
      // Our preference order among what the peer offers: the first we read, uncompressed first.
      const chosen = STORAGE_TRANSFER_SYNTAXES.find((ts) => context.transferSyntaxUids.includes(ts));
      return chosen
        ? { id: context.id, result: PresentationContextResult.Acceptance, transferSyntaxUid: chosen }
        : { id: context.id, result: PresentationContextResult.TransferSyntaxesNotSupported, transferSyntaxUid: first };
    });
    return { accept };
  }

  store(request: StoreRequest): StoreSink {
    const dir = path.join(this.#scp.options.storageDir, this.#associationId);
    if (!this.#dirMade) {
      mkdirSync(dir, { recursive: true }); // once per association, before the first file opens
      this.#dirMade = true;
    }
    const receipt = new InstanceReceipt({
      dir,
      sopClassUid: request.sopClassUid,
      sopInstanceUid: request.sopInstanceUid,
      transferSyntaxUid: request.transferSyntaxUid,
      callingAeTitle: this.#callingAeTitle,
      calledAeTitle: this.#calledAeTitle,
      // The association's folder is the SCP's own; listeners see a file only once it is complete.
      staged: false,
      ...(request.moveOriginatorAeTitle ? { moveOriginatorAeTitle: request.moveOriginatorAeTitle } : {}),
    });
    return {
      write: (fragment) => receipt.write(fragment),
      end: async () => {
        const result = await receipt.complete();
        // Edges translate (STYLE.md): a failure to store becomes "out of resources", never a crash.
        if (result instanceof Error) return DimseStatus.OutOfResources;
        try {
          await this.#scp.stored({ ...result, associationId: this.#associationId });
          return DimseStatus.Success;
        } catch {
          return DimseStatus.OutOfResources;
        }
      },
      abort: () => void receipt.discard(),
    };
  }
}
