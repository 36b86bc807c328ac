/**
 * Compressed pixel data through dcmjs-codecs' WebAssembly build (libjpeg-turbo / libijg for JPEG,
 * CharLS for JPEG-LS, OpenJPEG for JPEG 2000, OpenJPH for HTJ2K, its own RLE). One frame in, the
 * frame's stored values out as little-endian bytes. The WebAssembly module is initialised once
 * per process, on first need (about 30 ms).
 * @module
 */
import dcmjsCodecs from 'dcmjs-codecs';
import type { Context as CodecContext } from 'dcmjs-codecs';
import { VoxgateError } from '../errors.js';
import { TransferSyntax } from './tags.js';

const { Context, NativeCodecs } = dcmjsCodecs;

type Decoder = (context: CodecContext) => CodecContext;

/** Transfer syntax UID → the decoder of its frames. */
const DECODERS: Record<string, Decoder | undefined> = {
  [TransferSyntax.RLELossless]: (c) => NativeCodecs.decodeRle(c),
  [TransferSyntax.JPEGBaseline8Bit]: (c) => NativeCodecs.decodeJpeg(c, { convertColorspaceToRgb: true }),
  [TransferSyntax.JPEGExtended12Bit]: (c) => NativeCodecs.decodeJpeg(c),
  [TransferSyntax.JPEGLossless]: (c) => NativeCodecs.decodeJpeg(c),
  [TransferSyntax.JPEGLosslessSV1]: (c) => NativeCodecs.decodeJpeg(c),
  [TransferSyntax.JPEGLSLossless]: (c) => NativeCodecs.decodeJpegLs(c),
  [TransferSyntax.JPEGLSNearLossless]: (c) => NativeCodecs.decodeJpegLs(c),
  [TransferSyntax.JPEG2000Lossless]: (c) => NativeCodecs.decodeJpeg2000(c),
  [TransferSyntax.JPEG2000]: (c) => NativeCodecs.decodeJpeg2000(c),
  [TransferSyntax.HTJ2KLossless]: (c) => NativeCodecs.decodeHtJpeg2000(c),
  [TransferSyntax.HTJ2KLosslessRPCL]: (c) => NativeCodecs.decodeHtJpeg2000(c),
  [TransferSyntax.HTJ2K]: (c) => NativeCodecs.decodeHtJpeg2000(c),
};

/** True when frames in this (encapsulated) syntax can be decoded. */
export function canDecode(transferSyntaxUID: string): boolean {
  return DECODERS[transferSyntaxUID] !== undefined;
}

let ready: Promise<void> | undefined;

/** Loads the codecs' WebAssembly once; later calls share the first one's promise. */
export function initCodecs(): Promise<void> {
  ready ??= NativeCodecs.isInitialized()
    ? Promise.resolve()
    : NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false }).catch((err: unknown) => {
        ready = undefined;
        throw new VoxgateError('VXG_ERR_DICOM_DECODE', `The DICOM codecs (dcmjs-codecs WebAssembly) failed to load: ${(err as Error).message}`, { cause: err });
      });
  return ready;
}

/** What a decoder needs to know about the frame besides its bitstream. */
export interface FrameLayout {
  readonly rows: number;
  readonly columns: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly samplesPerPixel: number;
  readonly pixelRepresentation: number;
  readonly planarConfiguration: number;
  readonly photometricInterpretation: string;
}

/**
 * Decodes one encoded frame to its stored values (little-endian bytes, Rows × Columns × samples ×
 * BitsAllocated/8). Requires {@link initCodecs} to have resolved.
 */
export function decodeEncodedFrame(name: string, transferSyntaxUID: string, encoded: Uint8Array, layout: FrameLayout): Uint8Array {
  const decoder = DECODERS[transferSyntaxUID];
  if (!decoder) {
    throw new VoxgateError('VXG_ERR_DICOM_UNSUPPORTED_SYNTAX', `${name}: transfer syntax ${transferSyntaxUID} is not one Voxgate decodes.`);
  }
  if (!NativeCodecs.isInitialized()) throw new Error('initCodecs() must resolve before frames are decoded');
  const expected = layout.rows * layout.columns * layout.samplesPerPixel * (layout.bitsAllocated / 8);
  let decoded: Uint8Array | undefined;
  try {
    const context = new Context({
      width: layout.columns,
      height: layout.rows,
      bitsAllocated: layout.bitsAllocated,
      bitsStored: layout.bitsStored,
      samplesPerPixel: layout.samplesPerPixel,
      pixelRepresentation: layout.pixelRepresentation,
      planarConfiguration: layout.planarConfiguration,
      photometricInterpretation: layout.photometricInterpretation,
      encodedBuffer: encoded,
    });
    decoded = decoder(context).getDecodedBuffer();
  } catch (err) {
    throw new VoxgateError('VXG_ERR_DICOM_DECODE', `${name}: the ${transferSyntaxUID} pixel data cannot be decoded (${(err as Error).message}).`, { cause: err });
  }
  // Decoders may pad to an even length; fewer bytes than the header promises is an error.
  if (!decoded || decoded.length < expected) {
    throw new VoxgateError(
      'VXG_ERR_DICOM_DECODE',
      `${name}: the ${transferSyntaxUID} pixel data decodes to ${decoded?.length ?? 0} bytes, but Rows × Columns × BitsAllocated need ${expected}.`,
    );
  }
  return decoded.length === expected ? decoded : decoded.subarray(0, expected);
}
