import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DicomwebClient } from '../../src/dicom/net/dicomweb-client.js';
import { PeerError, isTransient } from '../../src/dicom/net/errors.js';
import type { MultipartEvent } from '../../src/dicom/net/multipart.js';
import { MultipartError, MultipartReader, boundaryOf } from '../../src/dicom/net/multipart.js';
import { encodeFileMeta, readFileMeta, readStudySeries } from '../../src/dicom/net/part10.js';

/** Feeds `body` in pieces of `size` bytes and returns the parts' headers and bytes (copied as they come). */
function parse(boundary: string, body: Buffer, size: number): { headers: ReadonlyMap<string, string>; data: Buffer }[] {
  const reader = new MultipartReader(boundary);
  const parts: { headers: ReadonlyMap<string, string>; chunks: Buffer[] }[] = [];
  const apply = (events: MultipartEvent[]): void => {
    for (const ev of events) {
      if (ev.type === 'begin') parts.push({ headers: ev.headers, chunks: [] });
      else if (ev.type === 'data') parts.at(-1)?.chunks.push(Buffer.from(ev.data));
    }
  };
  // Pushed as views of one reused buffer, as the client's reads are: the reader must keep copies.
  const scratch = Buffer.alloc(Math.min(size, body.length));
  for (let at = 0; at < body.length; at += size) {
    const n = body.copy(scratch, 0, at, Math.min(at + size, body.length));
    apply(reader.push(scratch.subarray(0, n)));
    scratch.fill(0xee);
  }
  reader.finish();
  return parts.map((p) => ({ headers: p.headers, data: Buffer.concat(p.chunks) }));
}

const BOUNDARY = 'b0und4ry';
/** Part bodies that contain near-delimiters: CRLF--b0und, --b0und4ry without CRLF. */
const PART_A = Buffer.concat([Buffer.from('first\r\n--b0und'), Buffer.alloc(300, 7), Buffer.from('--b0und4ry\r')]);
const PART_B = Buffer.from('second part');

function multipart(parts: readonly Buffer[], preamble = '', lengths: 'with Content-Length' | 'without' = 'without'): Buffer {
  const pieces: Buffer[] = [Buffer.from(preamble)];
  for (const part of parts) {
    const length = lengths === 'with Content-Length' ? `Content-Length: ${part.length}\r\n` : '';
    pieces.push(Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n${length}\r\n`), part, Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${BOUNDARY}--\r\nepilogue`));
  return Buffer.concat(pieces);
}

test('the multipart reader finds the same parts whatever the chunk size (1 byte to the whole body)', () => {
  for (const [preamble, lengths] of [['', 'without'], ['preamble text\r\n', 'without'], ['', 'with Content-Length']] as const) {
    const body = multipart([PART_A, PART_B], preamble, lengths);
    for (const size of [1, 2, 3, 5, 7, 13, 64, body.length]) {
      const parts = parse(BOUNDARY, body, size);
      assert.equal(parts.length, 2, `chunk size ${size}`);
      assert.ok(parts[0].data.equals(PART_A), `chunk size ${size}`);
      assert.ok(parts[1].data.equals(PART_B), `chunk size ${size}`);
      assert.equal(parts[0].headers.get('content-type'), 'application/dicom');
    }
  }
});

test('the multipart reader finds the same parts for every chunk size around the delimiter length (seams searched, not copied)', () => {
  const body = multipart([PART_A, PART_B, PART_A]);
  for (let size = 1; size <= 40; size++) {
    const parts = parse(BOUNDARY, body, size);
    assert.deepEqual(
      parts.map((p) => p.data.toString('hex')),
      [PART_A, PART_B, PART_A].map((p) => p.toString('hex')),
      `chunk size ${size}`,
    );
  }
});

test('the multipart reader rejects a body that ends inside a part', () => {
  const body = multipart([PART_A, PART_B]);
  const cut = body.subarray(0, body.length - 30);
  assert.throws(() => parse(BOUNDARY, cut, 64), (err: unknown) => err instanceof MultipartError && /ended inside part 2/.test(err.message));
});

test('a part longer than its Content-Length is refused, not cut', () => {
  const body = multipart([PART_A], '', 'with Content-Length');
  const lying = Buffer.from(body.toString('latin1').replace(`Content-Length: ${PART_A.length}`, `Content-Length: ${PART_A.length - 5}`), 'latin1');
  assert.throws(() => parse(BOUNDARY, lying, 64), (err: unknown) => err instanceof MultipartError && /Content-Length/.test(err.message));
});

test('boundaryOf reads quoted and bare boundaries, and refuses none', () => {
  assert.equal(boundaryOf('multipart/related; type="application/dicom"; boundary="a b;c"'), 'a b;c');
  assert.equal(boundaryOf('multipart/related;boundary=abc;type="application/dicom"'), 'abc');
  assert.equal(boundaryOf('multipart/related; type="application/dicom"'), undefined);
});

test('file meta written for a C-STORE dataset reads back, and Study/Series UIDs are found in a prefix', () => {
  const meta = encodeFileMeta({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '1.2.3.4', transferSyntaxUid: '1.2.840.10008.1.2', sourceAeTitle: 'PACS' });
  // Implicit VR LE: (0008,0018) SOP Instance UID, (0020,000D), (0020,000E), (7FE0,0010).
  const element = (group: number, el: number, value: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt16LE(group, 0);
    head.writeUInt16LE(el, 2);
    head.writeUInt32LE(value.length, 4);
    return Buffer.concat([head, value]);
  };
  const dataset = Buffer.concat([
    element(0x0008, 0x0018, Buffer.from('1.2.3.4\0')),
    element(0x0020, 0x000d, Buffer.from('1.2.3\0')),
    element(0x0020, 0x000e, Buffer.from('1.2.3.5\0')),
    element(0x7fe0, 0x0010, Buffer.alloc(64)),
  ]);
  const file = Buffer.concat([meta, dataset]);
  assert.equal(readFileMeta(file.subarray(0, 140)), undefined);
  const parsed = readFileMeta(file);
  assert.deepEqual(parsed, { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '1.2.3.4', transferSyntaxUid: '1.2.840.10008.1.2', datasetOffset: meta.length });
  assert.deepEqual(readStudySeries(file, meta.length, '1.2.840.10008.1.2'), { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.5' });
  assert.deepEqual(readStudySeries(file.subarray(0, meta.length + 20), meta.length, '1.2.840.10008.1.2'), {});
});

/** A fake DICOMweb server answering WADO-RS with whatever `answer` writes. */
async function fakeServer(answer: (res: ServerResponse) => void): Promise<{ server: Server; uri: string }> {
  const server = createServer((_req, res) => answer(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, uri: `http://127.0.0.1:${(server.address() as { port: number }).port}/dicom-web` };
}

function instance(sop: string): Buffer {
  return Buffer.concat([encodeFileMeta({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: sop, transferSyntaxUid: '1.2.840.10008.1.2.1' }), Buffer.alloc(4096, 1)]);
}

test('WADO-RS: a body cut in the middle of a part is VXG_ERR_DICOMWEB_RESPONSE and leaves no partial file; complete parts stay', async () => {
  const body = multipart([instance('1.2.3.1'), instance('1.2.3.2')]);
  const { server, uri } = await fakeServer((res) => {
    res.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
    res.end(body.subarray(0, body.length - 2000));
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'voxgate-wado-cut-'));
  try {
    const client = new DicomwebClient({ uri });
    await assert.rejects(client.retrieve({ study: '1.2.3' }, dir), (err: unknown) => err instanceof PeerError && err.code === 'VXG_ERR_DICOMWEB_RESPONSE' && !isTransient(err));
    assert.deepEqual(await readdir(dir), ['1.2.3.1.dcm']);
    client.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
    server.close();
  }
});

test('WADO-RS: duplicate SOP Instance UIDs are written once; a part with an unsafe UID is refused', async () => {
  let parts = [instance('1.2.3.1'), instance('1.2.3.1'), instance('1.2.3.2')];
  const { server, uri } = await fakeServer((res) => {
    res.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary="${BOUNDARY}"` });
    res.end(multipart(parts));
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'voxgate-wado-dup-'));
  try {
    const client = new DicomwebClient({ uri });
    const result = await client.retrieve({ study: '1.2.3' }, dir);
    assert.deepEqual(result.instances.map((i) => i.sopInstanceUid), ['1.2.3.1', '1.2.3.2']);
    assert.equal(result.duplicates, 1);
    parts = [instance('../../etc/passwd')];
    await assert.rejects(client.retrieve({ study: '1.2.3' }, dir), (err: unknown) => err instanceof PeerError && err.code === 'VXG_ERR_DICOMWEB_RESPONSE');
    assert.deepEqual((await readdir(dir)).sort(), ['1.2.3.1.dcm', '1.2.3.2.dcm']);
    client.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
    server.close();
  }
});

test('WADO-RS: a server that stalls is VXG_ERR_DICOMWEB_TIMEOUT, transient', async () => {
  const { server, uri } = await fakeServer((res) => {
    res.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
    res.write(`--${BOUNDARY}\r\n`); // and nothing more
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'voxgate-wado-stall-'));
  try {
    const client = new DicomwebClient({ uri, timeoutMs: 300 });
    await assert.rejects(client.retrieve({ study: '1.2.3' }, dir), (err: unknown) => err instanceof PeerError && err.code === 'VXG_ERR_DICOMWEB_TIMEOUT' && isTransient(err));
    client.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
    server.closeAllConnections();
    server.close();
  }
});
