/**
 * DIMSE command sets as the store SCP reads and answers them (PS3.7 §6.3, §9.3, Annex E): always
 * Implicit VR Little Endian, group 0000 only, so a dozen lines replace a general DICOM parser (the
 * per-instance cost that dcmjs's did was most of dcmjs-dimse's receive time; bench/dicom-node.ts).
 * @module
 */

/** Command Field (0000,0100) values the SCP reads or writes (PS3.7 Annex E). */
export const CommandField = {
  CStoreRq: 0x0001,
  CStoreRsp: 0x8001,
  CEchoRq: 0x0030,
  CEchoRsp: 0x8030,
  CCancelRq: 0x0fff,
} as const;

/** Command Data Set Type (0000,0800) meaning "no dataset follows". */
export const NO_DATA_SET = 0x0101;

/** DIMSE statuses the SCP answers (PS3.7 Annex C, PS3.4 Annex B). */
export const DimseStatus = {
  Success: 0x0000,
  /** Refused: out of resources (a file could not be written). */
  OutOfResources: 0xa700,
  /** Error: cannot understand (a C-STORE without a dataset). */
  CannotUnderstand: 0xc000,
  /** A request other than C-STORE or C-ECHO. */
  UnrecognizedOperation: 0x0211,
} as const;

/** The fields of a request command set that the SCP uses. */
export interface DimseCommand {
  readonly commandField: number;
  readonly messageId: number;
  readonly dataSetType: number;
  /** Affected SOP Class UID (0000,0002), or Requested SOP Class UID (0000,0003) when that is absent. */
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** Move Originator AE Title (0000,1030) of a C-STORE sent on behalf of a C-MOVE. */
  readonly moveOriginatorAeTitle: string;
}

const Tag = {
  CommandGroupLength: 0x00000000,
  AffectedSopClassUid: 0x00000002,
  RequestedSopClassUid: 0x00000003,
  CommandField: 0x00000100,
  MessageId: 0x00000110,
  MessageIdBeingRespondedTo: 0x00000120,
  CommandDataSetType: 0x00000800,
  Status: 0x00000900,
  AffectedSopInstanceUid: 0x00001000,
  MoveOriginatorAeTitle: 0x00001030,
} as const;

/** A malformed command set: the association is aborted. */
export class DimseCommandError extends Error {
  constructor(message: string) {
    super(`DIMSE command set: ${message}`);
    this.name = 'DimseCommandError';
  }
}

/** Parses a command set (Implicit VR Little Endian); unknown elements are skipped. */
export function parseCommand(bytes: Uint8Array): DimseCommand {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (start: number, length: number): string =>
    Buffer.from(bytes.buffer, bytes.byteOffset + start, length)
      .toString('latin1')
      .replace(/[\0 ]+$/, '')
      .trim();
  let commandField: number | undefined;
  let messageId = 0;
  let dataSetType = NO_DATA_SET;
  let affected = '';
  let requested = '';
  let sopInstanceUid = '';
  let moveOriginatorAeTitle = '';
  for (let offset = 0; offset < bytes.length; ) {
    if (offset + 8 > bytes.length) throw new DimseCommandError('an element header runs past the end');
    const tag = ((view.getUint16(offset, true) << 16) | view.getUint16(offset + 2, true)) >>> 0;
    const length = view.getUint32(offset + 4, true);
    const value = offset + 8;
    if (value + length > bytes.length) throw new DimseCommandError(`element (${tag.toString(16).padStart(8, '0')}) runs past the end`);
    const us = (): number => {
      if (length !== 2) throw new DimseCommandError(`element (${tag.toString(16).padStart(8, '0')}) is not a US`);
      return view.getUint16(value, true);
    };
    switch (tag) {
      case Tag.CommandField:
        commandField = us();
        break;
      case Tag.MessageId:
        messageId = us();
        break;
      case Tag.CommandDataSetType:
        dataSetType = us();
        break;
      case Tag.AffectedSopClassUid:
        affected = text(value, length);
        break;
      case Tag.RequestedSopClassUid:
        requested = text(value, length);
        break;
      case Tag.AffectedSopInstanceUid:
        sopInstanceUid = text(value, length);
        break;
      case Tag.MoveOriginatorAeTitle:
        moveOriginatorAeTitle = text(value, length);
        break;
      default:
        break;
    }
    offset = value + length;
  }
  if (commandField === undefined) throw new DimseCommandError('no Command Field (0000,0100)');
  return { commandField, messageId, dataSetType, sopClassUid: affected || requested, sopInstanceUid, moveOriginatorAeTitle };
}

export interface DimseResponse {
  readonly commandField: number;
  readonly messageIdBeingRespondedTo: number;
  readonly sopClassUid: string;
  readonly status: number;
  /** Omitted when empty (C-ECHO-RSP). */
  readonly sopInstanceUid?: string;
}

/** A response command set without a dataset, elements in tag order (PS3.7 §6.3.1). */
export function encodeResponse(response: DimseResponse): Buffer {
  const elements: Buffer[] = [];
  const uid = (tag: number, value: string): void => {
    const bytes = Buffer.from(value.length % 2 ? `${value}\0` : value, 'latin1');
    const header = Buffer.alloc(8);
    header.writeUInt16LE(tag >>> 16, 0);
    header.writeUInt16LE(tag & 0xffff, 2);
    header.writeUInt32LE(bytes.length, 4);
    elements.push(header, bytes);
  };
  const us = (tag: number, value: number): void => {
    const element = Buffer.alloc(10);
    element.writeUInt16LE(tag >>> 16, 0);
    element.writeUInt16LE(tag & 0xffff, 2);
    element.writeUInt32LE(2, 4);
    element.writeUInt16LE(value, 8);
    elements.push(element);
  };
  uid(Tag.AffectedSopClassUid, response.sopClassUid);
  us(Tag.CommandField, response.commandField);
  us(Tag.MessageIdBeingRespondedTo, response.messageIdBeingRespondedTo);
  us(Tag.CommandDataSetType, NO_DATA_SET);
  us(Tag.Status, response.status);
  if (response.sopInstanceUid) uid(Tag.AffectedSopInstanceUid, response.sopInstanceUid);
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt32LE(4, 4); // (0000,0000) UL, length 4
  groupLength.writeUInt32LE(body.length, 8);
  return Buffer.concat([groupLength, body]);
}
