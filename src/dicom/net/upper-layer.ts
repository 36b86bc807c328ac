/**
 * The PDUs of the DICOM upper layer that an association acceptor reads and writes (PS3.8 §9.3):
 * A-ASSOCIATE-RQ parsed; A-ASSOCIATE-AC/RJ, P-DATA-TF, A-RELEASE-RP and A-ABORT encoded. Used by
 * the store SCP's own receive path (scp-association.ts); the SCU side stays on dcmjs-dimse.
 *
 * Every PDU starts with a 6-byte header: type, a reserved byte, the length of what follows (uint32,
 * big endian). Items inside an association PDU have a 4-byte header: type, reserved, uint16 length.
 * @module
 */

/** PDU types (PS3.8 Table 9-11 ff.). */
export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PDataTf: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const;

/** Item types inside A-ASSOCIATE-RQ/AC (PS3.8 §9.3.2, §9.3.3, Annex D). */
const ItemType = {
  ApplicationContext: 0x10,
  PresentationContextRq: 0x20,
  PresentationContextAc: 0x21,
  AbstractSyntax: 0x30,
  TransferSyntax: 0x40,
  UserInformation: 0x50,
  MaximumLength: 0x51,
  ImplementationClassUid: 0x52,
  ImplementationVersionName: 0x55,
} as const;

/** The DICOM Application Context Name (PS3.7 Annex A.2.1): the only one there is. */
export const APPLICATION_CONTEXT_NAME = '1.2.840.10008.3.1.1.1';

/** Result/Reason of a presentation context in the A-ASSOCIATE-AC (PS3.8 Table 9-18). */
export const PresentationContextResult = {
  Acceptance: 0,
  UserRejection: 1,
  NoReason: 2,
  AbstractSyntaxNotSupported: 3,
  TransferSyntaxesNotSupported: 4,
} as const;

export interface Rejection {
  /** 1 rejected-permanent, 2 rejected-transient. */
  readonly result: 1 | 2;
  /** 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation). */
  readonly source: 1 | 2 | 3;
  readonly reason: number;
}

/** The A-ASSOCIATE-RJ result/source/reason triples an acceptor sends (PS3.8 Table 9-21). */
export const Rejections = {
  noReasonGiven: { result: 1, source: 1, reason: 1 },
  applicationContextNameNotSupported: { result: 1, source: 1, reason: 2 },
  callingAeTitleNotRecognized: { result: 1, source: 1, reason: 3 },
  calledAeTitleNotRecognized: { result: 1, source: 1, reason: 7 },
  protocolVersionNotSupported: { result: 1, source: 2, reason: 2 },
  localLimitExceeded: { result: 2, source: 3, reason: 2 },
} as const satisfies Record<string, Rejection>;

/** A-ABORT reasons when the service provider (we) aborts (PS3.8 Table 9-26, source 2). */
export const AbortReason = {
  NotSpecified: 0,
  UnrecognizedPdu: 1,
  UnexpectedPdu: 2,
  UnrecognizedPduParameter: 4,
  UnexpectedPduParameter: 5,
  InvalidPduParameterValue: 6,
} as const;
export type AbortReasonValue = (typeof AbortReason)[keyof typeof AbortReason];

/** A PDU we cannot accept: the association is aborted with `abortReason`. */
export class PduError extends Error {
  readonly abortReason: AbortReasonValue;
  constructor(message: string, abortReason: AbortReasonValue) {
    super(message);
    this.name = 'PduError';
    this.abortReason = abortReason;
  }
}

export interface ProposedPresentationContext {
  /** Odd, 1–255. */
  readonly id: number;
  readonly abstractSyntaxUid: string;
  readonly transferSyntaxUids: readonly string[];
}

/** What an A-ASSOCIATE-RQ says (the parts an acceptor uses). */
export interface AssociateRq {
  readonly protocolVersion: number;
  /** Trimmed of the padding spaces. */
  readonly calledAeTitle: string;
  readonly callingAeTitle: string;
  readonly applicationContextName: string;
  readonly presentationContexts: readonly ProposedPresentationContext[];
  /** The requestor's receive limit for P-DATA-TF PDUs (0: none). */
  readonly maxPduLength: number;
  readonly implementationClassUid: string;
  readonly implementationVersionName: string;
}

/** The length fields of an association PDU are bounded by the PDU; a longer one is malformed. */
function need(body: Uint8Array, offset: number, bytes: number, what: string): void {
  if (offset + bytes > body.length) throw new PduError(`A-ASSOCIATE-RQ: ${what} runs past the end of the PDU`, AbortReason.InvalidPduParameterValue);
}

/** A UID or AE field: ASCII without the trailing NUL (UIDs) or space (AE titles) padding. */
function text(body: Uint8Array, start: number, end: number): string {
  return Buffer.from(body.buffer, body.byteOffset + start, end - start)
    .toString('latin1')
    .replace(/[\0 ]+$/, '');
}

/**
 * Parses the body of an A-ASSOCIATE-RQ (what follows the 6-byte PDU header; PS3.8 §9.3.2).
 * Items we do not use (role selection, asynchronous operations, extended negotiation, user
 * identity) are skipped: leaving them unanswered means their defaults.
 */
export function parseAssociateRq(body: Uint8Array): AssociateRq {
  need(body, 0, 68, 'the fixed fields');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const protocolVersion = view.getUint16(0);
  const calledAeTitle = text(body, 4, 20).trim();
  const callingAeTitle = text(body, 20, 36).trim();
  let applicationContextName = '';
  const presentationContexts: ProposedPresentationContext[] = [];
  let maxPduLength = 0;
  let implementationClassUid = '';
  let implementationVersionName = '';
  let offset = 68;
  while (offset < body.length) {
    need(body, offset, 4, 'an item header');
    const type = body[offset];
    const length = view.getUint16(offset + 2);
    const start = offset + 4;
    need(body, start, length, `item 0x${type.toString(16)}`);
    const end = start + length;
    if (type === ItemType.ApplicationContext) {
      applicationContextName = text(body, start, end);
    } else if (type === ItemType.PresentationContextRq) {
      need(body, start, 4, 'a presentation context');
      const id = body[start];
      let abstractSyntaxUid = '';
      const transferSyntaxUids: string[] = [];
      for (let sub = start + 4; sub < end; ) {
        need(body, sub, 4, 'a presentation context sub-item');
        const subType = body[sub];
        const subLength = view.getUint16(sub + 2);
        if (sub + 4 + subLength > end) throw new PduError('A-ASSOCIATE-RQ: a sub-item runs past its presentation context', AbortReason.InvalidPduParameterValue);
        const value = text(body, sub + 4, sub + 4 + subLength);
        if (subType === ItemType.AbstractSyntax) abstractSyntaxUid = value;
        else if (subType === ItemType.TransferSyntax) transferSyntaxUids.push(value);
        sub += 4 + subLength;
      }
      presentationContexts.push({ id, abstractSyntaxUid, transferSyntaxUids });
    } else if (type === ItemType.UserInformation) {
      for (let sub = start; sub < end; ) {
        need(body, sub, 4, 'a user information sub-item');
        const subType = body[sub];
        const subLength = view.getUint16(sub + 2);
        if (sub + 4 + subLength > end) throw new PduError('A-ASSOCIATE-RQ: a sub-item runs past the user information', AbortReason.InvalidPduParameterValue);
        if (subType === ItemType.MaximumLength && subLength === 4) maxPduLength = view.getUint32(sub + 4);
        else if (subType === ItemType.ImplementationClassUid) implementationClassUid = text(body, sub + 4, sub + 4 + subLength);
        else if (subType === ItemType.ImplementationVersionName) implementationVersionName = text(body, sub + 4, sub + 4 + subLength);
        sub += 4 + subLength;
      }
    }
    offset = end;
  }
  return { protocolVersion, calledAeTitle, callingAeTitle, applicationContextName, presentationContexts, maxPduLength, implementationClassUid, implementationVersionName };
}

/** The acceptor's answer for one proposed presentation context. */
export interface PresentationContextAnswer {
  readonly id: number;
  readonly result: (typeof PresentationContextResult)[keyof typeof PresentationContextResult];
  /** The accepted one; on a rejection not significant (PS3.8 Table 9-18), but sent (the first proposed). */
  readonly transferSyntaxUid: string;
}

export interface AcceptorIdentity {
  /** Our receive limit for P-DATA-TF PDUs. */
  readonly maxPduLength: number;
  readonly implementationClassUid: string;
  readonly implementationVersionName: string;
}

function item(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header[0] = type;
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value]);
}

function ascii(value: string): Buffer {
  return Buffer.from(value, 'latin1');
}

function pdu(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(6);
  header[0] = type;
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** An AE title field: 16 bytes, space padded. */
function aeField(title: string): Buffer {
  return ascii(title.padEnd(16, ' ').slice(0, 16));
}

/** The A-ASSOCIATE-AC answering `rq` (PS3.8 §9.3.3); the AE title fields repeat the request's. */
export function encodeAssociateAc(rq: AssociateRq, contexts: readonly PresentationContextAnswer[], ours: AcceptorIdentity): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0); // protocol version 1
  aeField(rq.calledAeTitle).copy(fixed, 4);
  aeField(rq.callingAeTitle).copy(fixed, 20);
  const items = [fixed, item(ItemType.ApplicationContext, ascii(APPLICATION_CONTEXT_NAME))];
  for (const context of contexts) {
    const head = Buffer.from([context.id, 0, context.result, 0]);
    items.push(item(ItemType.PresentationContextAc, Buffer.concat([head, item(ItemType.TransferSyntax, ascii(context.transferSyntaxUid))])));
  }
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(ours.maxPduLength);
  items.push(
    item(
      ItemType.UserInformation,
      Buffer.concat([
        item(ItemType.MaximumLength, maxLength),
        item(ItemType.ImplementationClassUid, ascii(ours.implementationClassUid)),
        item(ItemType.ImplementationVersionName, ascii(ours.implementationVersionName)),
      ]),
    ),
  );
  return pdu(PduType.AssociateAc, Buffer.concat(items));
}

/** A-ASSOCIATE-RJ (PS3.8 §9.3.4). */
export function encodeAssociateRj(rejection: Rejection): Buffer {
  return pdu(PduType.AssociateRj, Buffer.from([0, rejection.result, rejection.source, rejection.reason]));
}

/** A-RELEASE-RP (PS3.8 §9.3.7). */
export function encodeReleaseRp(): Buffer {
  return pdu(PduType.ReleaseRp, Buffer.alloc(4));
}

/** A-ABORT from the service provider (source 2, PS3.8 §9.3.8). */
export function encodeAbort(reason: AbortReasonValue): Buffer {
  return pdu(PduType.Abort, Buffer.from([0, 0, 2, reason]));
}

/**
 * A command message as P-DATA-TF PDUs (PS3.8 §9.3.5, Annex E): one PDV per PDU, cut so that no
 * PDU exceeds the peer's `maxPduLength` (0: no limit); the last fragment carries the last bit.
 */
export function encodeCommandPData(presentationContextId: number, command: Buffer, maxPduLength: number): Buffer {
  // A PDV item adds 6 bytes (length, context ID, control header) inside the PDU's length.
  const fragmentMax = maxPduLength > 6 ? maxPduLength - 6 : Math.max(command.length, 1);
  const parts: Buffer[] = [];
  for (let offset = 0; offset < command.length || offset === 0; offset += fragmentMax) {
    const fragment = command.subarray(offset, offset + fragmentMax);
    const last = offset + fragmentMax >= command.length;
    const header = Buffer.alloc(12);
    header[0] = PduType.PDataTf;
    header.writeUInt32BE(fragment.length + 6, 2);
    header.writeUInt32BE(fragment.length + 2, 6);
    header[10] = presentationContextId;
    header[11] = last ? 0x03 : 0x01; // bit 0: command; bit 1: last fragment
    parts.push(header, fragment);
  }
  return Buffer.concat(parts);
}
