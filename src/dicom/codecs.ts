/**
 * Compressed pixel data through dcmjs-codecs' WebAssembly build (libjpeg-turbo / libijg for JPEG,
 * CharLS for JPEG-LS, OpenJPEG for JPEG 2000, OpenJPH for HTJ2K, its own RLE). One frame in, the
 * frame's stored values out as little-endian bytes. The WebAssembly module is initialised once
 * per process, on first need (about 30 ms).
 * @module
 */
import type * as DcmjsCodecs from 'dcmjs-codecs';
import type { Context as CodecContext } from 'dcmjs-codecs';
import { VoxgateError } from '../errors.js';
import { TransferSyntax } from './tags.js';

type Codecs = typeof DcmjsCodecs;
type DecoderName = 'decodeRle' | 'decodeJpeg' | 'decodeJpegLs' | 'decodeJpeg2000' | 'decodeHtJpeg2000';

/** Transfer syntax UID → the NativeCodecs method that decodes its frames. */
const DECODERS: Record<string, DecoderName | undefined> = {
  [TransferSyntax.RLELossless]: 'decodeRle',
  [TransferSyntax.JPEGBaseline8Bit]: 'decodeJpeg',
  [TransferSyntax.JPEGExtended12Bit]: 'decodeJpeg',
  [TransferSyntax.JPEGLossless]: 'decodeJpeg',
  [TransferSyntax.JPEGLosslessSV1]: 'decodeJpeg',
  [TransferSyntax.JPEGLSLossless]: 'decodeJpegLs',
  [TransferSyntax.JPEGLSNearLossless]: 'decodeJpegLs',
  [TransferSyntax.JPEG2000Lossless]: 'decodeJpeg2000',
  [TransferSyntax.JPEG2000]: 'decodeJpeg2000',
  [TransferSyntax.HTJ2KLossless]: 'decodeHtJpeg2000',
  [TransferSyntax.HTJ2KLosslessRPCL]: 'decodeHtJpeg2000',
  [TransferSyntax.HTJ2K]: 'decodeHtJpeg2000',
};

/** True when frames in this (encapsulated) syntax can be decoded. */
export function canDecode(transferSyntaxUID: string): boolean {
  return DECODERS[transferSyntaxUID] !== undefined;
}

let codecs: Codecs | undefined;
let ready: Promise<void> | undefined;

/**
 * Loads dcmjs-codecs and its WebAssembly once; later calls share the first one's promise. Loaded
 * on demand: a series of uncompressed files never pays for it.
 */
export function initCodecs(): Promise<void> {
  ready ??= (async () => {
    // A CommonJS (webpack) bundle: its exports arrive as the default export.
    const module = (await import('dcmjs-codecs')) as unknown as { default: Codecs };
    const loaded = module.default;
    if (!loaded.NativeCodecs.isInitialized()) await loaded.NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
    codecs = loaded;
  })().catch((err: unknown) => {
    ready = undefined;
    throw new VoxgateError('VXG_ERR_DICOM_DECODE', `The DICOM codecs (dcmjs-codecs WebAssembly) failed to load: ${(err as Error).message}`, { cause: err });
  });
  return ready;
}

function resetCodecs(): void {
  try {
    codecs?.NativeCodecs.release();
  } catch {
    // Releasing a broken instance may fail too; it is dropped either way.
  }
  codecs = undefined;
  ready = undefined;
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
  if (!codecs) throw new Error('initCodecs() must resolve before frames are decoded');
  const { Context, NativeCodecs } = codecs;
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
    const result: CodecContext = decoder === 'decodeJpeg' ? NativeCodecs.decodeJpeg(context, { convertColorspaceToRgb: false }) : NativeCodecs[decoder](context);
    decoded = result.getDecodedBuffer();
  } catch (err) {
    // A decoder that failed may have trapped half-way through C++ code (WebAssembly 'unreachable'),
    // leaving its heap inconsistent: later decodes then hang or fail. Drop the instance; the next
    // initCodecs() loads a fresh one.
    resetCodecs();
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
