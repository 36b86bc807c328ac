/**
 * nibabel as the independent NIfTI reader and writer that Voxgate's codec is checked against. One
 * python process per call handles a whole batch of files. Call {@link ensureNibabel} first.
 * @module
 */
import type { DataType, VoxelArray } from '../../src/volume/datatype.js';
import { DataTypes, VoxelArrayOf, dataTypeOf } from '../../src/volume/datatype.js';
import { runPython } from './system-packages.js';

/** What nibabel reports about a file; matrices are 4×4 rows. */
export interface NibabelImage {
  readonly path: string;
  /** 1 or 2 (sizeof_hdr 348 or 540). */
  readonly version: 1 | 2;
  readonly shape: number[];
  /** `img.affine`: nibabel's best affine (sform, else qform, else base affine). */
  readonly affine: number[][];
  /** pixdim[0..7] as nibabel holds them after loading (pixdim[0] is qfac). */
  readonly pixdim: number[];
  readonly qform: number[][];
  readonly qformCode: number;
  readonly sform: number[][];
  readonly sformCode: number;
  /** The on-disk voxel type, e.g. `int16`. */
  readonly dtype: string;
  /** The on-disk byte order: `<` little-endian, `>` big-endian. */
  readonly byteOrder: '<' | '>';
  /** scl_slope and scl_inter as nibabel applies them (`img.dataobj.slope`, `.inter`). */
  readonly slope: number;
  readonly inter: number;
  /** Present when asked for: see {@link VoxelReport}. */
  readonly voxels?: VoxelArray;
  /** Type of the array the checksum was taken of (`np.asanyarray(img.dataobj)`). */
  readonly voxelDtype?: string;
  /** sha256 (hex) of that array's little-endian bytes in file (Fortran) order. */
  readonly sha256?: string;
  readonly sum?: number;
}

/**
 * Which voxels to send back: `none`; `stored` is `np.asanyarray(img.dataobj)` (scaled when the file
 * has scl_slope, else the on-disk type); `fdata` is `img.get_fdata()` (float64); `sha256` gives a
 * checksum and sum of the `stored` array instead of the array. Arrays come in file order.
 */
export type VoxelReport = 'none' | 'stored' | 'fdata' | 'sha256';

/** A file for nibabel to write. Omitted q/sform keep nibabel's defaults for the chosen constructor. */
export interface NibabelSaveSpec {
  readonly path: string;
  /** `Nifti1Image` or `Nifti2Image`. */
  readonly version?: 1 | 2;
  /** Up to 7 dimensions; `data` is in file (Fortran) order. */
  readonly shape: readonly number[];
  readonly data: VoxelArray;
  /** Given: `Image(data, affine)`, i.e. sform code 2 and qform code 0. Absent: both codes 0. */
  readonly affine?: readonly (readonly number[])[];
  /** `img.set_qform(affine, code)`; affine null resets it. */
  readonly qform?: { readonly affine: readonly (readonly number[])[] | null; readonly code: number };
  readonly sform?: { readonly affine: readonly (readonly number[])[] | null; readonly code: number };
  /** `img.header.set_zooms`, applied before the q/sform. */
  readonly zooms?: readonly number[];
  /** Big-endian files come from a byte-swapped header. */
  readonly byteOrder?: '<' | '>';
  /** Stored data is `data`; readers see `data * slope + inter`. */
  readonly slope?: number;
  readonly inter?: number;
}

const SCRIPT = String.raw`
import base64, hashlib, json, sys
import numpy as np
import nibabel as nib

def rows(m):
    return None if m is None else [[float(v) for v in r] for r in m]

def info(path, voxels):
    img = nib.load(path)
    h = img.header
    raw = h.get_data_dtype()
    out = {
        'path': path,
        'version': 2 if int(h['sizeof_hdr']) == 540 else 1,
        'shape': [int(s) for s in img.shape],
        'affine': rows(img.affine),
        'pixdim': [float(v) for v in h['pixdim']],
        'qform': rows(h.get_qform()), 'qformCode': int(h['qform_code']),
        'sform': rows(h.get_sform()), 'sformCode': int(h['sform_code']),
        'dtype': raw.name,
        'byteOrder': '>' if raw.byteorder == '>' or (raw.byteorder == '=' and sys.byteorder == 'big') else '<',
        'slope': float(img.dataobj.slope), 'inter': float(img.dataobj.inter),
    }
    if voxels == 'none':
        return out
    arr = img.get_fdata() if voxels == 'fdata' else np.asanyarray(img.dataobj)
    data = arr.astype(arr.dtype.newbyteorder('<'), copy=False).tobytes(order='F')
    out['voxelDtype'] = arr.dtype.name
    if voxels == 'sha256':
        out['sha256'] = hashlib.sha256(data).hexdigest()
        out['sum'] = float(arr.sum(dtype=np.float64))
    else:
        out['voxels'] = base64.b64encode(data).decode('ascii')
    return out

def save(s):
    cls = nib.Nifti2Image if s.get('version') == 2 else nib.Nifti1Image
    arr = np.frombuffer(base64.b64decode(s['data']), dtype=np.dtype(s['dtype']).newbyteorder('<'))
    arr = arr.astype(arr.dtype.newbyteorder('='), copy=False).reshape(s['shape'], order='F')
    affine = s.get('affine')
    img = cls(arr, None if affine is None else np.array(affine))
    if s.get('zooms') is not None:
        img.header.set_zooms(s['zooms'])
    for form in ('qform', 'sform'):
        if s.get(form) is not None:
            a = s[form]['affine']
            getattr(img, 'set_' + form)(None if a is None else np.array(a), code=s[form]['code'])
    if s.get('byteOrder') == '>':
        img = cls(arr, img.affine, header=img.header.as_byteswapped('>'))
    if s.get('slope') is not None:
        img.header.set_slope_inter(s['slope'], s.get('inter', 0))
    img.to_filename(s['path'])
    return s['path']

request = json.load(sys.stdin)
saved = [save(s) for s in request['save']]
json.dump([info(p, request['voxels']) for p in saved + request['load']], sys.stdout)
`;

interface RawImage extends Omit<NibabelImage, 'voxels'> {
  voxels?: string;
}

async function call(save: readonly NibabelSaveSpec[], load: readonly string[], voxels: VoxelReport): Promise<NibabelImage[]> {
  const request = {
    voxels,
    load,
    save: save.map(({ data, ...rest }) => ({
      ...rest,
      dtype: dataTypeOf(data),
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
    })),
  };
  const out = JSON.parse(await runPython(SCRIPT, [], { input: JSON.stringify(request) })) as RawImage[];
  return out.map(({ voxels: b64, ...rest }) =>
    b64 === undefined ? rest : { ...rest, voxels: decodeVoxels(b64, rest.voxelDtype ?? 'float64') },
  );
}

/**
 * What nibabel reads from each file, in one python process.
 * @example
 * const [img] = await nibabelLoad(['/tmp/x.nii.gz'], 'stored');
 * assert.deepEqual(img.shape, [2, 3, 4]);
 */
export function nibabelLoad(paths: readonly string[], voxels: VoxelReport = 'none'): Promise<NibabelImage[]> {
  return call([], paths, voxels);
}

/**
 * Writes each file with nibabel and returns what nibabel reads back from it, in one python process.
 * @example
 * const [img] = await nibabelSave([{ path, shape: [2, 2, 2], data: new Int16Array(8), affine }]);
 */
export function nibabelSave(specs: readonly NibabelSaveSpec[], voxels: VoxelReport = 'none'): Promise<NibabelImage[]> {
  return call(specs, [], voxels);
}

function decodeVoxels(b64: string, dtype: string): VoxelArray {
  if (!(DataTypes as readonly string[]).includes(dtype)) {
    throw new Error(`nibabel returned voxels of type ${dtype}, which Voxgate has no array for`);
  }
  // Copy into a fresh buffer: a decoded Buffer may sit at an offset the typed array cannot start at.
  const bytes = Uint8Array.from(Buffer.from(b64, 'base64'));
  return new VoxelArrayOf[dtype as DataType](bytes.buffer);
}
