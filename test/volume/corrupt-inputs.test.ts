/**
 * Corrupt inputs: hundreds of damaged variants of real NIfTI files (and of generated NIfTI-2 and
 * big-endian ones) must each end in a VoxgateError with the code their class of damage calls for;
 * never a crash, an untyped error, a hang, or an allocation the input does not justify.
 *
 * Every variant is deterministic (seeded PRNG) and named in the failure message.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { ErrorCode } from '../../src/errors.js';
import { isVoxgateError } from '../../src/errors.js';
import type { ByteReaderOptions, ByteSource } from '../../src/volume/byte-reader.js';
import { readNifti } from '../../src/volume/nifti.js';
import type { Volume } from '../../src/volume/volume.js';
import type { PullCounter } from './corrupt-fixtures.js';
import { NIFTI1_LAYOUT, NIFTI2_LAYOUT, buildNifti, lazyRepeat, randomInt, seededRandom } from './corrupt-fixtures.js';
import type { Expect, Source, Variant } from './corrupt-variants.js';
import {
  LIMIT, bytesOf, code, deflateFlips, describeSource, failingSourceVariants, generatedBigEndian, generatedNifti2,
  gzTruncations, gzipFrameVariants, headerCases, headerVariants, niiTruncations, randomHeaderFlips, uniqueSorted,
} from './corrupt-variants.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Real files, relative to the repository root (the shared data set sits beside the checkout). */
const REAL_FILES = [
  { name: 'MR example_mr_sm.nii.gz', file: '../shared/data/mr_nifti/totalseg_mr_example/example_mr_sm.nii.gz' },
  { name: 'dcm_qa_ts 1.nii', file: '../shared/data/dicom_single/dcm_qa_ts/Ref/1.nii' },
  { name: 'CTA vertebrae_T12.nii.gz', file: '../shared/data/ct_nifti/totalseg_patientB_cta_crop/vertebrae_T12.nii.gz' },
] as const;
const NRRD_FILE = '../shared/data/dicom_ct_series/dcmqi_ct_3slice_with_seg/liver_seg.nrrd';

/** A variant that takes longer than this has hung. */
const HANG_MS = 5000;

type Outcome =
  | { readonly kind: 'volume'; readonly volume: Volume }
  | { readonly kind: 'error'; readonly code: ErrorCode; readonly message: string }
  | { readonly kind: 'untyped'; readonly error: unknown }
  | { readonly kind: 'hang' };

const HANG = Symbol('hang');

async function attempt(variant: Variant, read: (s: ByteSource, o: ByteReaderOptions) => Promise<Volume>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<typeof HANG>((resolve) => {
    timer = setTimeout(() => resolve(HANG), HANG_MS);
  });
  try {
    const result = await Promise.race([read(variant.input(), variant.options ?? LIMIT), hang]);
    return result === HANG ? { kind: 'hang' } : { kind: 'volume', volume: result };
  } catch (error) {
    return isVoxgateError(error) ? { kind: 'error', code: error.code, message: error.message } : { kind: 'untyped', error };
  } finally {
    clearTimeout(timer);
  }
}

function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'volume': return `a volume ${o.volume.dims.join('×')} ${o.volume.dataType}`;
    case 'error': return `${o.code} (${o.message})`;
    case 'untyped': return `an untyped error: ${o.error instanceof Error ? o.error.stack : String(o.error)}`;
    case 'hang': return `no result within ${HANG_MS} ms (a hang)`;
  }
}

/** Why `o` is wrong for `expect`, or undefined when it is right. */
function judge(expect: Expect, o: Outcome): string | undefined {
  if (o.kind === 'untyped' || o.kind === 'hang') return describeOutcome(o);
  if ('either' in expect) return undefined;
  if ('volume' in expect) return o.kind === 'volume' ? undefined : `expected a volume, got ${describeOutcome(o)}`;
  if (o.kind === 'error') {
    if (!expect.codes.includes(o.code)) return `expected ${expect.codes.join(' or ')}, got ${describeOutcome(o)}`;
    return !expect.message || expect.message.test(o.message) ? undefined : `expected a message matching ${expect.message}, got ${describeOutcome(o)}`;
  }
  if (expect.orSameData && Buffer.from(bytesOf(o.volume)).equals(expect.orSameData)) return undefined;
  return `expected ${expect.codes.join(' or ')}, got ${describeOutcome(o)}`;
}

/** Outcomes by class, for the summary; `total` is what the count assertion checks. */
const tally = { total: 0, byClass: new Map<string, Map<string, number>>() };

function record(cls: string, o: Outcome): void {
  tally.total++;
  const key = o.kind === 'error' ? o.code : o.kind;
  const counts = tally.byClass.get(cls) ?? new Map<string, number>();
  counts.set(key, (counts.get(key) ?? 0) + 1);
  tally.byClass.set(cls, counts);
}

async function runVariants(
  cls: string,
  variants: readonly Variant[],
  read: (s: ByteSource, o: ByteReaderOptions) => Promise<Volume> = readNifti,
): Promise<void> {
  assert.ok(variants.length > 0, `${cls}: no variants`);
  const failures: string[] = [];
  for (const variant of variants) {
    const o = await attempt(variant, read);
    record(cls, o);
    const wrong = judge(variant.expect, o);
    if (wrong) failures.push(`${variant.name}: ${wrong}`);
  }
  assert.equal(failures.length, 0, `${failures.length} of ${variants.length} variants failed:\n${failures.join('\n')}`);
}

type SourceSlot = { readonly name: string; readonly source?: Source; readonly skip?: string };

const slots: SourceSlot[] = [];
for (const [n, real] of REAL_FILES.entries()) {
  const file = path.join(REPO_ROOT, real.file);
  if (!existsSync(file)) {
    const skip = `${real.file} is absent (the shared data set is not next to this checkout); its variants are skipped`;
    console.error(`corrupt-inputs: ${skip}`);
    slots.push({ name: real.name, skip });
    continue;
  }
  slots.push({ name: real.name, source: await describeSource(real.name, readFileSync(file), 1000 + n) });
}
slots.push({ name: 'generated NIfTI-2 float32', source: await describeSource('generated NIfTI-2 float32', generatedNifti2(), 2001) });
slots.push({ name: 'generated big-endian int16', source: await describeSource('generated big-endian int16', generatedBigEndian(), 2002) });

void test('the generated big-endian and NIfTI-2 fixtures read back as written', async () => {
  const be = await readNifti(generatedBigEndian());
  assert.deepEqual(be.dims, [9, 8, 7]);
  assert.equal(be.dataType, 'int16');
  assert.deepEqual(Array.from(be.data.subarray(0, 4)), [-1000, -963, -926, -889]);
  assert.deepEqual(be.affine, [0.8, 0, 0, -30, 0, 0.8, 0, -40, 0, 0, -3, 50, 0, 0, 0, 1].map(Math.fround));
  const n2 = await readNifti(generatedNifti2());
  assert.deepEqual(n2.dims, [7, 6, 5]);
  assert.equal(n2.dataType, 'float32');
  assert.equal(n2.source.nifti?.version, 2);
  // Voxel (1, 0, 1): 1 − 0 × 0.5 + 1 × 1.25.
  assert.equal(n2.data[1 + 7 * 6], 2.25);
  assert.deepEqual(n2.affine.map((v) => +v.toFixed(6)), [
    1.2 * Math.cos(0.3), -0.9 * Math.sin(0.3), 0, 10, 1.2 * Math.sin(0.3), 0.9 * Math.cos(0.3), 0, -20, 0, 0, 2.5, 30, 0, 0, 0, 1,
  ].map((v) => +v.toFixed(6)));
});

void test('empty input is rejected with VXG_ERR_VOLUME_FORMAT', async () => {
  await runVariants('empty input', [{ name: 'empty buffer', input: () => new Uint8Array(0), expect: code('VXG_ERR_VOLUME_FORMAT') }]);
});

for (const slot of slots) {
  void describe(`corrupt variants of ${slot.name}`, { skip: slot.skip ?? false }, () => {
    const src = slot.source;
    if (!src) return;
    void test('truncated .nii gives VXG_ERR_VOLUME_TRUNCATED', () => runVariants('truncated .nii', niiTruncations(src)));
    void test('truncated .nii.gz gives VXG_ERR_VOLUME_TRUNCATED', () => runVariants('truncated .nii.gz', gzTruncations(src)));
    const cases = headerCases(src);
    for (const cls of [...new Set(cases.map((c) => c.cls))]) {
      const ofClass = cases.filter((c) => c.cls === cls);
      const expected = [...new Set(ofClass.map((c) => ('codes' in c.expect ? c.expect.codes.join('|') : 'a volume')))].join(', ');
      void test(`${cls}: ${expected}`, () => runVariants(cls, headerVariants(src, ofClass)));
    }
    void test('random header byte flips give a volume or a VoxgateError', () => runVariants('random header flips', randomHeaderFlips(src, 25)));
    void test('deflate bit flips give VXG_ERR_VOLUME_CORRUPT or _TRUNCATED (or the same voxels)', async () =>
      runVariants('deflate bit flips', await deflateFlips(src, 20)));
    void test('a damaged gzip frame (CRC, ISIZE, flags) is caught', () => runVariants('gzip frame', gzipFrameVariants(src)));
    void test('a source stream that fails gives a VoxgateError', () => runVariants('failing source', failingSourceVariants(src)));
    void test('maxDecodedBytes below the image gives VXG_ERR_VOLUME_TOO_LARGE', () => runVariants('limit below the image', [
      { name: `${src.name} .nii under a limit of half its size`, input: () => src.nii, options: { maxDecodedBytes: src.nii.length >> 1 }, expect: code('VXG_ERR_VOLUME_TOO_LARGE') },
      { name: `${src.name} .nii.gz under a limit of half its size`, input: () => src.gz, options: { maxDecodedBytes: src.nii.length >> 1 }, expect: code('VXG_ERR_VOLUME_TOO_LARGE') },
    ]));
  });
}

void describe('gzip bombs and oversized declarations', () => {
  const small = generatedBigEndian();
  const GiB = 1024 ** 3;

  void test('a valid small image followed by 4 GiB of gzip-compressed zeros stops early with "more data than its header declares"', async () => {
    const zeros = new Uint8Array(gzipSync(Buffer.alloc(8 * 1024 * 1024), { level: 9 }));
    const counter: PullCounter = { pulled: 0 };
    const times = (4 * GiB) / (8 * 1024 * 1024);
    const started = performance.now();
    await runVariants('gzip bomb', [{
      name: `bomb: .nii.gz member + ${times} members of 8 MiB zeros (${zeros.length} bytes each)`,
      input: () => lazyRepeat(new Uint8Array(gzipSync(small)), zeros, times, counter),
      options: {},
      expect: { codes: ['VXG_ERR_VOLUME_HEADER'], message: /more data than its header declares/ },
    }]);
    // At most a few 8 MiB members inflated of the 512 offered.
    assert.ok(counter.pulled <= 8, `pulled ${counter.pulled} chunks of ${times + 1}`);
    assert.ok(performance.now() - started < 5000);
  });

  void test('a valid small .nii followed by 4 GiB of zeros stops early', async () => {
    const counter: PullCounter = { pulled: 0 };
    await runVariants('gzip bomb', [{
      name: 'uncompressed .nii + 4096 chunks of 1 MiB zeros',
      input: () => lazyRepeat(small, new Uint8Array(1024 * 1024), 4096, counter),
      options: {},
      expect: { codes: ['VXG_ERR_VOLUME_HEADER'], message: /more data than its header declares/ },
    }]);
    assert.ok(counter.pulled <= 3, `pulled ${counter.pulled} chunks of 4097`);
  });

  void test('a header declaring 2 GiB under a 1 MiB limit gives VXG_ERR_VOLUME_TOO_LARGE before allocating', async () => {
    const header = buildNifti({
      layout: NIFTI1_LAYOUT, littleEndian: true, dims: [1024, 1024, 1024], datatype: 4,
      pixdim: [1, 1, 1, 1], qformCode: 0, sformCode: 1, quatern: [0, 0, 0, 0, 0, 0],
      srow: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],
    });
    const chunk = new Uint8Array(1024 * 1024);
    for (const compressed of [false, true]) {
      const counter: PullCounter = { pulled: 0 };
      const head = compressed ? new Uint8Array(gzipSync(header)) : header;
      const part = compressed ? new Uint8Array(gzipSync(chunk)) : chunk;
      const before = process.memoryUsage().arrayBuffers;
      await runVariants('oversized declaration', [{
        name: `${compressed ? '.nii.gz' : '.nii'} declaring 1024³ int16, limit 1 MiB`,
        input: () => lazyRepeat(head, part, 2048, counter),
        options: { maxDecodedBytes: 1024 * 1024 },
        expect: code('VXG_ERR_VOLUME_TOO_LARGE'),
      }]);
      const grown = process.memoryUsage().arrayBuffers - before;
      assert.ok(grown < 64 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
      // The stream pipes read ahead by their high-water mark (16 KiB): a few dozen 1 KiB gzip members.
      assert.ok(counter.pulled <= (compressed ? 32 : 4), `pulled ${counter.pulled} chunks of 2049`);
    }
  });

  void test('a NIfTI-2 header declaring 2^60 bytes gives VXG_ERR_VOLUME_TOO_LARGE under the default limit', async () => {
    const header = buildNifti({
      layout: NIFTI2_LAYOUT, littleEndian: true, dims: [2 ** 20, 2 ** 20, 2 ** 20], datatype: 2,
      pixdim: [1, 1, 1, 1], qformCode: 0, sformCode: 1, quatern: [0, 0, 0, 0, 0, 0],
      srow: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],
    });
    await runVariants('oversized declaration', [
      { name: 'NIfTI-2 2^20³ uint8, header only', input: () => header, options: {}, expect: code('VXG_ERR_VOLUME_TOO_LARGE') },
      { name: 'NIfTI-2 2^20³ uint8, gzip, header only', input: () => new Uint8Array(gzipSync(header)), options: {}, expect: code('VXG_ERR_VOLUME_TOO_LARGE') },
    ]);
  });
});

void describe('corrupt NRRD variants', async () => {
  type ReadNrrd = (source: ByteSource, options?: ByteReaderOptions) => Promise<Volume>;
  let readNrrd: ReadNrrd | undefined;
  try {
    // A variable specifier keeps this file compiling while src/volume/nrrd.ts does not exist yet.
    const specifier = '../../src/volume/nrrd.js';
    const nrrdModule = (await import(specifier)) as { readNrrd?: ReadNrrd };
    readNrrd = nrrdModule.readNrrd;
  } catch {
    readNrrd = undefined;
  }
  const nrrdFile = path.join(REPO_ROOT, NRRD_FILE);
  const skip = !readNrrd
    ? 'src/volume/nrrd.ts (readNrrd) is not there yet; NRRD variants skipped'
    : !existsSync(nrrdFile) ? `${NRRD_FILE} is absent; NRRD variants skipped` : false;
  if (skip) console.error(`corrupt-inputs: ${skip}`);
  void test('NRRD damage gives the expected VoxgateError', { skip }, async () => {
    const read = readNrrd as ReadNrrd;
    const file = new Uint8Array(readFileSync(nrrdFile));
    const headerEnd = Buffer.from(file).indexOf('\n\n') + 2;
    const text = Buffer.from(file.subarray(0, headerEnd)).toString('latin1');
    const data = file.subarray(headerEnd);
    const reference = Uint8Array.from(bytesOf(await read(file)));
    const withHeader = (edit: (h: string) => string): Uint8Array => Buffer.concat([Buffer.from(edit(text), 'latin1'), data]);
    const random = seededRandom(3001);
    const variants: Variant[] = [];
    for (const cut of uniqueSorted([1, 4, 8, 40, headerEnd - 1, headerEnd, headerEnd + 5, file.length - 8, file.length - 1,
      ...Array.from({ length: 6 }, () => randomInt(random, headerEnd + 10, file.length - 8))], 1, file.length)) {
      const expect = cut < headerEnd ? { either: true as const } : code('VXG_ERR_VOLUME_TRUNCATED');
      variants.push({ name: `liver_seg.nrrd cut at ${cut} of ${file.length}`, input: () => file.subarray(0, cut), expect });
    }
    variants.push({ name: 'liver_seg.nrrd magic NRRX0004', input: () => withHeader((h) => h.replace('NRRD0004', 'NRRX0004')), expect: code('VXG_ERR_VOLUME_FORMAT') });
    variants.push({ name: 'liver_seg.nrrd sizes 512 512 4 (more than the data)', input: () => withHeader((h) => h.replace('sizes: 512 512 3', 'sizes: 512 512 4')), expect: code('VXG_ERR_VOLUME_TRUNCATED') });
    for (let n = 0; n < 12; n++) {
      const offset = randomInt(random, headerEnd + 10, file.length - 8);
      const bytes = Uint8Array.from(file);
      bytes[offset] ^= 1 << randomInt(random, 0, 8);
      variants.push({ name: `liver_seg.nrrd deflate flip at ${offset}`, input: () => bytes, expect: { codes: ['VXG_ERR_VOLUME_CORRUPT', 'VXG_ERR_VOLUME_TRUNCATED'], orSameData: reference } });
    }
    for (let n = 0; n < 12; n++) {
      const bytes = Uint8Array.from(file);
      const offset = randomInt(random, 0, headerEnd);
      bytes[offset] ^= randomInt(random, 1, 256);
      variants.push({ name: `liver_seg.nrrd header byte ${offset} flipped`, input: () => bytes, expect: { either: true } });
    }
    await runVariants('NRRD', variants, (s, o) => read(s, o));
  });
});

after(() => {
  const lines = [...tally.byClass].map(([cls, counts]) => `  ${cls}: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  console.log(`corrupt-inputs: ${tally.total} variants\n${lines.join('\n')}`);
});

void test('feeds at least 200 corrupt variants', () => {
  // Top-level tests and suites run in order, so every variant above has run by now.
  assert.ok(tally.total >= 200, `only ${tally.total} variants ran`);
});
