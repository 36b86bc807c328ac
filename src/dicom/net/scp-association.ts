/**
 * The acceptor side of one DICOM association for C-ECHO and C-STORE (PS3.8 §9, PS3.7 §9.1): the
 * store SCP's receive path, written for its cost per instance. dcmjs-dimse spent ~2 ms of CPU per
 * received CT slice (bench/dicom-node.ts) re-concatenating the socket reads of each PDU, parsing
 * and writing command sets through dcmjs, and passing every PDV through an event emitter and a
 * Writable; here a socket read is cut into PDV fragments in place and a dataset's fragments go to
 * the handler's sink as slices of it, without a copy.
 *
 * What it does: A-ASSOCIATE-RQ → the handler decides (AC with its presentation-context answers,
 * or RJ); P-DATA-TF with PDV fragments of any size and in any PDU split (command fragments joined,
 * command set parsed, dataset fragments streamed); C-STORE-RSP once the sink has stored the
 * dataset, C-ECHO-RSP at once, 0x0211 for any other request; A-RELEASE-RQ → A-RELEASE-RP once the
 * responses due are sent; A-ABORT and malformed or unexpected PDUs end the connection (we abort
 * with the PS3.8 reason). One timeout covers ARTIM, the wait for the A-ASSOCIATE-RQ and silence
 * between PDUs: the socket's idle timeout.
 *
 * The SCU side (C-FIND, C-MOVE, C-GET, C-STORE clients) stays on dcmjs-dimse (dimse-association.ts).
 * @module
 */
import type { Socket } from 'node:net';
import type { DimseCommand } from './dimse-command.js';
import { CommandField, DimseStatus, NO_DATA_SET, encodeResponse, parseCommand } from './dimse-command.js';
import type { AbortReasonValue, AcceptorIdentity, AssociateRq, PresentationContextAnswer, Rejection } from './upper-layer.js';
import {
  APPLICATION_CONTEXT_NAME,
  AbortReason,
  PduError,
  PduType,
  PresentationContextResult,
  Rejections,
  encodeAbort,
  encodeAssociateAc,
  encodeAssociateRj,
  encodeCommandPData,
  encodeReleaseRp,
  parseAssociateRq,
} from './upper-layer.js';

/** Where one C-STORE's dataset goes. */
export interface StoreSink {
  /** A dataset fragment (a slice of a socket read: keep it, never write into it). */
  write(fragment: Uint8Array): void | Promise<void>;
  /** The dataset is complete: store it and resolve with the C-STORE status. Never rejects. */
  end(): Promise<number>;
  /** The association ended in the middle of the dataset. */
  abort(): void;
}

export interface StoreRequest {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** The transfer syntax accepted for the request's presentation context. */
  readonly transferSyntaxUid: string;
  readonly moveOriginatorAeTitle: string;
}

export type AssociateAnswer = { readonly accept: readonly PresentationContextAnswer[] } | { readonly reject: Rejection };

/** What an SCP decides; the association does the protocol. */
export interface ScpHandler {
  /** Accept (with an answer per proposed presentation context) or reject the association. */
  associate(request: AssociateRq): AssociateAnswer;
  /** A C-STORE request arrived; its dataset follows into the returned sink. May throw (answered 0xA700). */
  store(request: StoreRequest): StoreSink;
}

export interface ScpAssociationOptions {
  /** ARTIM, association request and between-PDU timeout. */
  readonly timeoutMs: number;
  /** What the A-ASSOCIATE-AC says about us. */
  readonly identity: AcceptorIdentity;
}

/** The largest association-control PDU read (an A-ASSOCIATE-RQ with every context is ~ 10 KiB). */
const MAX_CONTROL_PDU = 1 << 20;
/** Dataset bytes handed to a sink between two waits for its writes (bounds memory for big instances). */
const SINK_WINDOW = 1 << 20;

const State = { AwaitingRequest: 0, Associated: 1, Releasing: 2, Closed: 3 } as const;
type StateValue = (typeof State)[keyof typeof State];

/** Where the reader is: PDU header → (control PDU body | PDV header → PDV value …). */
const Read = { PduHeader: 0, PduBody: 1, PdvHeader: 2, PdvValue: 3 } as const;
type ReadValue = (typeof Read)[keyof typeof Read];

/** The DIMSE message being received on the association. */
interface Message {
  readonly contextId: number;
  command?: DimseCommand;
  readonly commandParts: Uint8Array[];
  sink?: StoreSink;
  /** Dataset bytes given to the sink so far, and at the last wait. */
  sent: number;
  waited: number;
}

const NO_SINK: StoreSink = { write: () => undefined, end: () => Promise.resolve(DimseStatus.UnrecognizedOperation), abort: () => undefined };

/**
 * One accepted connection; it lives as long as the socket.
 * @example
 * createServer({ noDelay: true }, (socket) => {
 *   const association = new ScpAssociation(socket, handler, { timeoutMs: 60_000, identity });
 *   socket.on('close', () => association.accepted && count--);
 * });
 */
export class ScpAssociation {
  readonly #socket: Socket;
  readonly #handler: ScpHandler;
  readonly #options: ScpAssociationOptions;
  #state: StateValue = State.AwaitingRequest;
  /** Accepted presentation contexts: ID → transfer syntax. */
  readonly #contexts = new Map<number, string>();
  #peerMaxPdu = 0;
  #accepted = false;

  #read: ReadValue = Read.PduHeader;
  readonly #header = Buffer.alloc(6);
  #headerFill = 0;
  #pduType = 0;
  #body: Buffer | undefined;
  #bodyFill = 0;
  /** Bytes of the current P-DATA-TF not yet read. */
  #pduLeft = 0;
  #fragmentLeft = 0;
  #fragmentIsCommand = false;
  #fragmentIsLast = false;
  #message: Message | undefined;
  /** Responses not yet sent (their datasets are being stored). */
  readonly #pending = new Set<Promise<void>>();
  #paused = 0;

  constructor(socket: Socket, handler: ScpHandler, options: ScpAssociationOptions) {
    this.#socket = socket;
    this.#handler = handler;
    this.#options = options;
    socket.setNoDelay(true);
    socket.setTimeout(options.timeoutMs);
    socket.on('timeout', () => this.#abort(AbortReason.NotSpecified));
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    // Errors end the connection; 'close' follows and cleans up.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#closed());
  }

  /** Whether an A-ASSOCIATE-AC was sent (the association counts against the SCP's cap). */
  get accepted(): boolean {
    return this.#accepted;
  }

  #receive(chunk: Buffer): void {
    try {
      let offset = 0;
      while (offset < chunk.length && this.#state !== State.Closed) offset = this.#step(chunk, offset);
    } catch (err) {
      this.#abort(err instanceof PduError ? err.abortReason : AbortReason.InvalidPduParameterValue);
    }
  }

  /**
   * Copies what is missing of a 6-byte header (a PDU's, or a PDV item's) from `chunk` at `offset`
   * and calls `complete` once it is whole; returns the new offset.
   */
  #fillHeader(chunk: Buffer, offset: number, complete: () => void): number {
    const n = Math.min(6 - this.#headerFill, chunk.length - offset);
    chunk.copy(this.#header, this.#headerFill, offset, offset + n);
    this.#headerFill += n;
    if (this.#headerFill === 6) complete();
    return offset + n;
  }

  /** Consumes what it can of `chunk` from `offset`; returns the new offset. */
  #step(chunk: Buffer, offset: number): number {
    switch (this.#read) {
      case Read.PduHeader:
        return this.#fillHeader(chunk, offset, () => this.#startPdu());
      case Read.PduBody: {
        const body = this.#body!;
        const n = Math.min(body.length - this.#bodyFill, chunk.length - offset);
        chunk.copy(body, this.#bodyFill, offset, offset + n);
        this.#bodyFill += n;
        if (this.#bodyFill === body.length) {
          this.#body = undefined;
          this.#read = Read.PduHeader;
          this.#controlPdu(this.#pduType, body);
        }
        return offset + n;
      }
      case Read.PdvHeader:
        // A PDV item header: item length (uint32), presentation context ID, message control header.
        return this.#fillHeader(chunk, offset, () => this.#startFragment());
      case Read.PdvValue: {
        const n = Math.min(this.#fragmentLeft, chunk.length - offset);
        if (n > 0) this.#fragment(chunk.subarray(offset, offset + n));
        this.#fragmentLeft -= n;
        this.#pduLeft -= n;
        if (this.#fragmentLeft === 0) this.#endFragment();
        return offset + n;
      }
    }
  }

  #startPdu(): void {
    this.#headerFill = 0;
    this.#pduType = this.#header[0];
    const length = this.#header.readUInt32BE(2);
    if (this.#pduType === PduType.PDataTf) {
      if (this.#state !== State.Associated) throw new PduError('P-DATA-TF outside an association', AbortReason.UnexpectedPdu);
      this.#pduLeft = length;
      this.#read = Read.PdvHeader;
      this.#nextPdv();
      return;
    }
    if (this.#pduType < PduType.AssociateRq || this.#pduType > PduType.Abort) throw new PduError(`unknown PDU type 0x${this.#pduType.toString(16)}`, AbortReason.UnrecognizedPdu);
    if (length > MAX_CONTROL_PDU) throw new PduError(`a PDU of type 0x${this.#pduType.toString(16)} of ${length} bytes`, AbortReason.InvalidPduParameterValue);
    if (length === 0) return this.#controlPdu(this.#pduType, Buffer.alloc(0));
    this.#body = Buffer.allocUnsafe(length);
    this.#bodyFill = 0;
    this.#read = Read.PduBody;
  }

  /** After a PDV: the next one, or the next PDU once this P-DATA-TF is read. */
  #nextPdv(): void {
    if (this.#pduLeft === 0) this.#read = Read.PduHeader;
    else if (this.#pduLeft < 6) throw new PduError('a P-DATA-TF ends inside a PDV item header', AbortReason.InvalidPduParameterValue);
    else this.#read = Read.PdvHeader;
  }

  #startFragment(): void {
    this.#headerFill = 0;
    const itemLength = this.#header.readUInt32BE(0);
    const contextId = this.#header[4];
    const control = this.#header[5];
    this.#pduLeft -= 6;
    if (itemLength < 2 || itemLength - 2 > this.#pduLeft) throw new PduError(`a PDV item of ${itemLength} bytes in a P-DATA-TF with ${this.#pduLeft + 6} left`, AbortReason.InvalidPduParameterValue);
    if (!this.#contexts.has(contextId)) throw new PduError(`a PDV on presentation context ${contextId}, which was not accepted`, AbortReason.InvalidPduParameterValue);
    this.#fragmentLeft = itemLength - 2;
    this.#fragmentIsCommand = (control & 0x01) !== 0;
    this.#fragmentIsLast = (control & 0x02) !== 0;
    const message = this.#message;
    if (this.#fragmentIsCommand) {
      if (message?.command) throw new PduError('a command fragment where dataset fragments were due', AbortReason.UnexpectedPduParameter);
      this.#message ??= { contextId, commandParts: [], sent: 0, waited: 0 };
    } else if (!message?.command || message.command.dataSetType === NO_DATA_SET) {
      throw new PduError('a dataset fragment without a command announcing one', AbortReason.UnexpectedPduParameter);
    }
    if (this.#message!.contextId !== contextId) throw new PduError('fragments of one message on two presentation contexts', AbortReason.UnexpectedPduParameter);
    this.#read = Read.PdvValue;
    if (this.#fragmentLeft === 0) this.#endFragment();
  }

  #fragment(bytes: Buffer): void {
    const message = this.#message!;
    if (this.#fragmentIsCommand) {
      message.commandParts.push(bytes);
      return;
    }
    const sink = message.sink!;
    const written = sink.write(bytes);
    message.sent += bytes.length;
    if (written && message.sent - message.waited >= SINK_WINDOW) {
      // A big instance: stop reading until the sink has written what it holds (it flushes every MiB).
      message.waited = message.sent;
      this.#pause(written);
    }
  }

  #endFragment(): void {
    this.#nextPdv();
    if (!this.#fragmentIsLast) return;
    const message = this.#message!;
    if (this.#fragmentIsCommand) {
      const command = parseCommand(message.commandParts.length === 1 ? message.commandParts[0] : Buffer.concat(message.commandParts));
      message.commandParts.length = 0;
      message.command = command;
      if (command.dataSetType === NO_DATA_SET) {
        this.#message = undefined;
        this.#request(message.contextId, command);
      } else {
        message.sink = this.#openSink(message.contextId, command);
      }
      return;
    }
    this.#message = undefined;
    this.#respond(message.contextId, message.command!, message.sink!.end());
  }

  #openSink(contextId: number, command: DimseCommand): StoreSink {
    if (command.commandField !== CommandField.CStoreRq) return NO_SINK;
    try {
      return this.#handler.store({
        sopClassUid: command.sopClassUid,
        sopInstanceUid: command.sopInstanceUid,
        transferSyntaxUid: this.#contexts.get(contextId) ?? '',
        moveOriginatorAeTitle: command.moveOriginatorAeTitle,
      });
    } catch {
      return { write: () => undefined, end: () => Promise.resolve(DimseStatus.OutOfResources), abort: () => undefined };
    }
  }

  /** A request without a dataset. */
  #request(contextId: number, command: DimseCommand): void {
    if (command.commandField === CommandField.CEchoRq) return this.#respond(contextId, command, Promise.resolve(DimseStatus.Success));
    if (command.commandField === CommandField.CStoreRq) return this.#respond(contextId, command, Promise.resolve(DimseStatus.CannotUnderstand));
    if (command.commandField === CommandField.CCancelRq || (command.commandField & 0x8000) !== 0) return; // nothing to cancel; a response is not ours to answer
    this.#respond(contextId, command, Promise.resolve(DimseStatus.UnrecognizedOperation));
  }

  #respond(contextId: number, command: DimseCommand, status: Promise<number>): void {
    const sent = status
      .then((value) => {
        if (this.#state === State.Closed) return;
        const response = encodeResponse({
          commandField: command.commandField | 0x8000,
          messageIdBeingRespondedTo: command.messageId,
          sopClassUid: command.sopClassUid,
          status: value,
          ...(command.commandField === CommandField.CStoreRq ? { sopInstanceUid: command.sopInstanceUid } : {}),
        });
        this.#socket.write(encodeCommandPData(contextId, response, this.#peerMaxPdu));
      })
      .catch(() => this.#abort(AbortReason.NotSpecified))
      .finally(() => this.#pending.delete(sent));
    this.#pending.add(sent);
  }

  #controlPdu(type: number, body: Buffer): void {
    switch (type) {
      case PduType.AssociateRq:
        if (this.#state !== State.AwaitingRequest) throw new PduError('a second A-ASSOCIATE-RQ', AbortReason.UnexpectedPdu);
        return this.#associate(parseAssociateRq(body));
      case PduType.ReleaseRq: {
        if (this.#state !== State.Associated) throw new PduError('A-RELEASE-RQ outside an association', AbortReason.UnexpectedPdu);
        if (this.#message) throw new PduError('A-RELEASE-RQ in the middle of a message', AbortReason.UnexpectedPdu);
        this.#state = State.Releasing;
        // The responses due go first. The requestor closes the connection after the A-RELEASE-RP
        // (PS3.8 §7.2); ending our side too frees the socket of one that does not.
        void Promise.all(this.#pending).then(() => {
          if (this.#state === State.Closed) return;
          this.#state = State.Closed;
          this.#socket.end(encodeReleaseRp());
        });
        return;
      }
      case PduType.Abort:
        this.#state = State.Closed;
        this.#socket.destroy();
        return;
      default:
        throw new PduError(`unexpected PDU type 0x${type.toString(16)}`, AbortReason.UnexpectedPdu);
    }
  }

  #associate(request: AssociateRq): void {
    // Checks of the upper layer itself come before the handler's (PS3.8 §9.3.2, Table 9-21).
    let answer: AssociateAnswer;
    if ((request.protocolVersion & 1) === 0) answer = { reject: Rejections.protocolVersionNotSupported };
    else if (request.applicationContextName !== APPLICATION_CONTEXT_NAME) answer = { reject: Rejections.applicationContextNameNotSupported };
    else {
      try {
        answer = this.#handler.associate(request);
      } catch {
        answer = { reject: Rejections.noReasonGiven }; // a decision that failed is no acceptance
      }
    }
    if ('reject' in answer) {
      // Nothing more is read; the requestor closes the connection (ending our side makes sure it
      // does), or the timeout does (ARTIM).
      this.#state = State.Closed;
      this.#socket.end(encodeAssociateRj(answer.reject));
      return;
    }
    for (const context of answer.accept) {
      if (context.result === PresentationContextResult.Acceptance) this.#contexts.set(context.id, context.transferSyntaxUid);
    }
    this.#peerMaxPdu = request.maxPduLength;
    this.#state = State.Associated;
    this.#accepted = true;
    this.#socket.write(encodeAssociateAc(request, answer.accept, this.#options.identity));
  }

  #pause(written: Promise<void>): void {
    if (this.#paused++ === 0) this.#socket.pause();
    void written.then(() => {
      if (--this.#paused === 0 && this.#state !== State.Closed) this.#socket.resume();
    });
  }

  /** Aborts as the service provider (a protocol error or the timeout) and closes. */
  #abort(reason: AbortReasonValue): void {
    const associated = this.#state === State.Associated || this.#state === State.Releasing;
    this.#state = State.Closed;
    if (associated && this.#socket.writable) {
      this.#socket.write(encodeAbort(reason));
      this.#socket.destroySoon(); // once the A-ABORT is written
    } else {
      this.#socket.destroy();
    }
  }

  #closed(): void {
    this.#state = State.Closed;
    this.#message?.sink?.abort();
    this.#message = undefined;
  }
}
