import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isVoxgateError } from '../../src/errors.js';
import type { Affine, Vec3 } from '../../src/volume/affine.js';
import { apply, axisCodes, maxAbsDifference } from '../../src/volume/affine.js';
import type { DataType } from '../../src/volume/datatype.js';
import { VoxelArrayOf } from '../../src/volume/datatype.js';
import { OrientationTransform, orientationTransform, reorient } from '../../src/volume/reorient.js';
import type { Dims } from '../../src/volume/volume.js';
import { createVolume, voxelIndex } from '../../src/volume/volume.js';
import { ensureNibabel, runPython } from '../helpers/system-packages.js';

interface Case {
  readonly name: string;
  readonly dims: Dims;
  readonly affine: Affine;
  readonly codes: string;
  readonly permutation: readonly number[];
  readonly flips: readonly boolean[];
  readonly outputDims: Dims;
  /** The RAS affine, worked out by hand. */
  readonly expected: Affine;
}

// Entries are exact binary fractions, so "same world position" can be asserted bit for bit.
const CASES: readonly Case[] = [
  {
    name: 'LPS (DICOM-like)',
    dims: [4, 3, 2],
    affine: [-0.75, 0, 0, 96, 0, -0.75, 0, 120.5, 0, 0, 1.25, -50, 0, 0, 0, 1],
    codes: 'LPS',
    permutation: [0, 1, 2],
    flips: [true, true, false],
    outputDims: [4, 3, 2],
    // x: 96 − 0.75·3, y: 120.5 − 0.75·2
    expected: [0.75, 0, 0, 93.75, 0, 0.75, 0, 119, 0, 0, 1.25, -50, 0, 0, 0, 1],
  },
  {
    name: 'LIA (coronal slices)',
    dims: [5, 4, 3],
    affine: [-0.5, 0, 0, 10, 0, 0, 2, -20, 0, -1.5, 0, 30, 0, 0, 0, 1],
    codes: 'LIA',
    permutation: [0, 2, 1],
    flips: [true, false, true],
    outputDims: [5, 3, 4],
    // x: 10 − 0.5·4, z: 30 − 1.5·3
    expected: [0.5, 0, 0, 8, 0, 2, 0, -20, 0, 0, 1.5, 25.5, 0, 0, 0, 1],
  },
  {
    name: 'PSR (sagittal slices)',
    dims: [6, 5, 4],
    affine: [0, 0, 0.75, -40, -1, 0, 0, 60, 0, 2, 0, -10, 0, 0, 0, 1],
    codes: 'PSR',
    permutation: [2, 0, 1],
    flips: [false, true, false],
    outputDims: [4, 6, 5],
    // y: 60 − 1·5
    expected: [0.75, 0, 0, -40, 0, 1, 0, 55, 0, 0, 2, -10, 0, 0, 0, 1],
  },
  {
    // Rotated about z by atan(4/3) ≈ 53°: i points mostly Anterior, j mostly Left.
    name: 'oblique (ALS, 53° in-plane rotation)',
    dims: [4, 5, 3],
    affine: [0.75, -1, 0, 12.5, 1, 0.75, 0, -30.25, 0, 0, 2, 7, 0, 0, 0, 1],
    codes: 'ALS',
    permutation: [1, 0, 2],
    flips: [true, false, false],
    outputDims: [5, 4, 3],
    // Still oblique after permuting: x: 12.5 − 1·4, y: −30.25 + 0.75·4
    expected: [1, 0.75, 0, 8.5, -0.75, 1, 0, -27.25, 0, 0, 2, 7, 0, 0, 0, 1],
  },
];

function* voxels(dims: Dims): Generator<Vec3> {
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) yield [i, j, k];
}

function filled(type: DataType, n: number): InstanceType<(typeof VoxelArrayOf)[DataType]> {
  const data = new VoxelArrayOf[type](n);
  for (let v = 0; v < n; v++) data[v] = type.startsWith('float') ? v * 0.37 - 5.5 : (v * 37) % 251;
  return data;
}

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

void describe('reorient to RAS', () => {
  for (const c of CASES) {
    void describe(c.name, () => {
      const volume = createVolume(c.dims, filled('int16', c.dims[0] * c.dims[1] * c.dims[2]) as Int16Array, c.affine);
      const { volume: ras, transform } = reorient(volume);

      void test(`starts as ${c.codes} and ends as RAS`, () => {
        assert.equal(axisCodes(c.affine).join(''), c.codes);
        assert.deepEqual(axisCodes(ras.affine), ['R', 'A', 'S']);
      });

      void test('permutes and flips the expected axes', () => {
        assert.deepEqual(transform.permutation, c.permutation);
        assert.deepEqual(transform.flips, c.flips);
        assert.deepEqual(transform.inputDims, c.dims);
        assert.deepEqual(transform.outputDims, c.outputDims);
        assert.deepEqual(ras.dims, c.outputDims);
        assert.equal(ras.dataType, 'int16');
      });

      void test('has exactly the expected affine', () => {
        assert.deepEqual(ras.affine, c.expected);
        assert.deepEqual(transform.inputAffine(ras.affine), c.affine);
      });

      void test('keeps the world position of every voxel, bit for bit', () => {
        for (const p of voxels(c.dims)) {
          const o = transform.toOutputIndex(p);
          assert.deepEqual(apply(ras.affine, o), apply(c.affine, p), `voxel ${p.join(',')}`);
          assert.deepEqual(transform.toInputIndex(o), p);
        }
      });

      void test('moves every voxel value to its mapped index', () => {
        for (const p of voxels(c.dims)) {
          const o = transform.toOutputIndex(p);
          assert.equal(ras.data[voxelIndex(ras.dims, ...o)], volume.data[voxelIndex(c.dims, ...p)]);
        }
      });

      void test('drops the file geometry: the voxels moved', () => {
        assert.equal(ras.source.format, 'derived');
      });
    });
  }

  void test('maps a specific LPS voxel: (0, 0, 1) becomes (3, 2, 1)', () => {
    const c = CASES[0];
    const t = orientationTransform(c.dims, c.affine);
    assert.deepEqual(t.toOutputIndex([0, 0, 1]), [3, 2, 1]);
    assert.deepEqual(apply(c.affine, [0, 0, 1]), [96, 120.5, -48.75]);
    assert.deepEqual(apply(c.expected, [3, 2, 1]), [96, 120.5, -48.75]);
  });

  void test('reorients to another target (LPS) and back to the same voxels and affine', () => {
    const c = CASES[1];
    const volume = createVolume(c.dims, filled('float32', 60) as Float32Array, c.affine);
    const { volume: lps, transform } = reorient(volume, ['L', 'P', 'S']);
    assert.deepEqual(axisCodes(lps.affine), ['L', 'P', 'S']);
    const back = reorient(lps, ['L', 'I', 'A']);
    assert.deepEqual(back.volume.affine, c.affine);
    assert.deepEqual(bytes(back.volume.data), bytes(volume.data));
    assert.deepEqual(bytes(transform.invert(lps.data)), bytes(volume.data));
  });
});

void describe('OrientationTransform inverts exactly', () => {
  for (const type of ['uint8', 'int16', 'float32', 'float64'] as const) {
    for (const c of CASES) {
      void test(`invert(apply(x)) is x byte for byte: ${type}, ${c.name}`, () => {
        const t = orientationTransform(c.dims, c.affine);
        const x = filled(type, c.dims[0] * c.dims[1] * c.dims[2]);
        if (x instanceof Float32Array) {
          // A NaN with a payload and a negative zero: moved as bits, never through a float register.
          new Uint32Array(x.buffer)[3] = 0x7fa00001;
          x[4] = -0;
        }
        if (x instanceof Float64Array) {
          new Uint32Array(x.buffer)[7] = 0x7ff40000;
          x[4] = -0;
        }
        const y = t.apply(x);
        assert.equal(y.constructor, x.constructor);
        assert.notEqual(y, x);
        assert.deepEqual(bytes(t.invert(y)), bytes(x));
        assert.deepEqual(bytes(t.apply(t.invert(y))), bytes(y));
      });
    }
  }

  void test('brings a uint8 label map computed on the RAS grid back to the input layout', () => {
    const c = CASES[2];
    const t = orientationTransform(c.dims, c.affine);
    // Label = 1 + output i: after inverting, each input voxel holds 1 + its output i.
    const labels = new Uint8Array(120);
    for (const o of voxels(t.outputDims)) labels[voxelIndex(t.outputDims, ...o)] = 1 + o[0];
    const back = t.invert(labels);
    assert.ok(back instanceof Uint8Array, 'type kept');
    for (const p of voxels(c.dims)) assert.equal(back[voxelIndex(c.dims, ...p)], 1 + t.toOutputIndex(p)[0]);
    // Input axis 2 is output axis 0, not flipped: the label is 1 + k.
    assert.equal(back[voxelIndex(c.dims, 0, 0, 3)], 4);
  });

  void test('a copy sent to a worker (structured clone) rebuilds the same transform', () => {
    const c = CASES[3];
    const t = orientationTransform(c.dims, c.affine);
    const clone = structuredClone({ permutation: t.permutation, flips: t.flips, inputDims: t.inputDims });
    const rebuilt = new OrientationTransform(clone.permutation, clone.flips, clone.inputDims);
    const x = filled('uint8', 60);
    assert.deepEqual(rebuilt.apply(x), t.apply(x));
    assert.deepEqual(rebuilt.outputToInput, t.outputToInput);
  });

  void test('rejects an array that does not fit the grid with VXG_ERR_VOLUME_GRID_MISMATCH', () => {
    const t = orientationTransform(CASES[0].dims, CASES[0].affine);
    assert.throws(() => t.invert(new Uint8Array(23)), (err: unknown) => isVoxgateError(err, 'VXG_ERR_VOLUME_GRID_MISMATCH'));
  });
});

void describe('reorient identity and arguments', () => {
  const affine: Affine = [0.7, 0, 0, -90, 0, 0.7, 0, -120, 0, 0, 1, 33, 0, 0, 0, 1];
  const volume = createVolume([3, 2, 2], filled('float32', 12) as Float32Array, affine, { format: 'nifti' });

  void test('returns the input volume itself when already RAS (documented aliasing)', () => {
    const { volume: out, transform } = reorient(volume);
    assert.equal(out, volume);
    assert.equal(transform.isIdentity, true);
    assert.deepEqual(transform.outputToInput, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  });

  void test('copies when asked, keeping geometry and source', () => {
    const { volume: out } = reorient(volume, ['R', 'A', 'S'], { copy: true });
    assert.notEqual(out.data, volume.data);
    assert.deepEqual(out.data, volume.data);
    assert.deepEqual(out.affine, affine);
    assert.equal(out.source.format, 'nifti');
  });

  void test('apply and invert return fresh arrays even for the identity', () => {
    const t = orientationTransform(volume.dims, affine);
    assert.notEqual(t.apply(volume.data), volume.data);
    assert.deepEqual(t.invert(volume.data), volume.data);
  });

  void test('rejects a target that does not name each world axis once', () => {
    assert.throws(() => reorient(volume, ['R', 'L', 'S']), RangeError);
    assert.throws(() => reorient(volume, ['R', 'A', 'X' as 'S']), RangeError);
  });
});

void describe('reorient agrees with nibabel', async () => {
  const nibabel = await ensureNibabel();
  for (const c of CASES) {
    void test(`as_closest_canonical-equivalent for ${c.name}`, { skip: nibabel.ok ? false : nibabel.reason }, async () => {
      const volume = createVolume(c.dims, filled('float32', c.dims[0] * c.dims[1] * c.dims[2]) as Float32Array, c.affine);
      const { volume: ras } = reorient(volume);
      const script = [
        'import sys, json, numpy as np',
        'from nibabel.orientations import io_orientation, axcodes2ornt, ornt_transform, apply_orientation, inv_ornt_aff',
        'dims = json.loads(sys.argv[1]); aff = np.array(json.loads(sys.argv[2])).reshape(4, 4)',
        "arr = np.frombuffer(sys.stdin.buffer.read(), '<f4').reshape(dims, order='F')",
        "t = ornt_transform(io_orientation(aff), axcodes2ornt('RAS'))",
        'out = apply_orientation(arr, t)',
        'new = aff @ inv_ornt_aff(t, arr.shape)',
        "print(json.dumps({'dims': list(out.shape), 'affine': new.ravel().tolist(), 'data': out.ravel(order='F').tobytes().hex()}))",
      ].join('\n');
      const reply = JSON.parse(
        await runPython(script, [JSON.stringify(c.dims), JSON.stringify(c.affine)], { input: bytes(volume.data) }),
      ) as { dims: number[]; affine: number[]; data: string };
      assert.deepEqual(ras.dims, reply.dims);
      assert.ok(maxAbsDifference(ras.affine, reply.affine) === 0, `affine differs: ${reply.affine.join(',')}`);
      assert.equal(bytes(ras.data).toString('hex'), reply.data);
    });
  }
});

describe('reorienting into a given array', () => {
  test('the voxels land in `into`, bit for bit as in a new array; an identity leaves it unused; a wrong array is refused', () => {
    const data = Int16Array.from({ length: 4 * 3 * 2 }, (_, p) => p * 37 - 400);
    const lps = createVolume([4, 3, 2], data, [-1, 0, 0, 3, 0, -1, 0, 2, 0, 0, 1, 0, 0, 0, 0, 1]);
    const into = new Int16Array(data.length);
    const kept = reorient(lps, undefined, { into });
    assert.equal(kept.volume.data, into);
    assert.deepEqual([...into], [...reorient(lps).volume.data]);
    const ras = createVolume([4, 3, 2], data, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    const spare = new Int16Array(data.length);
    assert.equal(reorient(ras, undefined, { into: spare }).volume, ras);
    assert.ok(spare.every((v) => v === 0));
    assert.throws(() => reorient(lps, undefined, { into: new Int16Array(5) }), RangeError);
    assert.throws(() => reorient(lps, undefined, { into: new Uint8Array(data.length) }), RangeError);
  });
});

describe('inverting by slices', () => {
  test('shares of the reoriented slices, each inverted alone, give the whole inverse (permuted and flipped, identity, float64)', () => {
    for (const transform of [new OrientationTransform([2, 0, 1], [true, false, true], [4, 3, 5]), new OrientationTransform([0, 1, 2], [false, false, false], [4, 3, 5])]) {
      for (const Type of [Uint8Array, Float64Array]) {
        const data = new Type(60).map((_, p) => p + 1);
        const whole = transform.invert(data);
        const into = new Type(60);
        const k = transform.outputDims[2];
        transform.invert(data, into, [2, k]);
        assert.equal(into.filter((v) => v === 0).length, 60 - (60 / k) * (k - 2));
        transform.invert(data, into, [0, 2]);
        assert.deepEqual(into, whole);
      }
    }
    assert.throws(() => new OrientationTransform([2, 0, 1], [true, false, true], [4, 3, 5]).invert(new Uint8Array(60), undefined, [0, 4]), /Output slices 0\.\.4 are not within the grid's 3/);
  });
});
