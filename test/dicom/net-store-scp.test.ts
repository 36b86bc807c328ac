/**
 * The store SCP's own upper layer (scp-association.ts, upper-layer.ts, dimse-command.ts) without
 * DCMTK or Orthanc: dcmjs-dimse as an independent SCU, and a raw socket whose PDUs this file builds
 * byte by byte from PS3.8 §9.3 (not with the module's encoders), sent in awkward splits.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import dcmjsDimse from 'dcmjs-dimse';
import { cEcho, cStore } from '../../src/dicom/net/dimse-client.js';
import { readFileMeta, readStudySeries } from '../../src/dicom/net/part10.js';
import { StoreScp } from '../../src/dicom/net/store-scp.js';
import type { StoredListener } from '../../src/dicom/net/store-scp.js';

const { Dataset } = dcmjsDimse;

const AE = 'VOXTEST';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const STUDY = '1.2.3.4.5';
const SERIES = '1.2.3.4.5.6';

// ---- PDUs by hand (PS3.8 §9.3) ----

function pdu(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(6);
  header[0] = type;
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function item(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header[0] = type;
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value]);
}

function associateRq(called: string, calling: string, contexts: { id: number; abstract: string; syntaxes: string[] }[]): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0);
  fixed.write(called.padEnd(16), 4, 'latin1');
  fixed.write(calling.padEnd(16), 20, 'latin1');
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(16384);
  return pdu(
    0x01,
    Buffer.concat([
      fixed,
      item(0x10, Buffer.from('1.2.840.10008.3.1.1.1')),
      ...contexts.map((c) =>
        item(0x20, Buffer.concat([Buffer.from([c.id, 0, 0, 0]), item(0x30, Buffer.from(c.abstract)), ...c.syntaxes.map((ts) => item(0x40, Buffer.from(ts)))])),
      ),
      item(0x50, Buffer.concat([item(0x51, maxLength), item(0x52, Buffer.from('1.2.3.4')), item(0x55, Buffer.from('RAW'))])),
    ]),
  );
}

/** One P-DATA-TF holding the given PDVs. */
function pData(...pdvs: { id: number; command: boolean; last: boolean; bytes: Buffer }[]): Buffer {
  return pdu(
    0x04,
    Buffer.concat(
      pdvs.map((p) => {
        const header = Buffer.alloc(6);
        header.writeUInt32BE(p.bytes.length + 2, 0);
        header[4] = p.id;
        header[5] = (p.command ? 1 : 0) | (p.last ? 2 : 0);
        return Buffer.concat([header, p.bytes]);
      }),
    ),
  );
}

/** Implicit VR Little Endian elements of group 0000, with the group length first. */
function commandSet(elements: [number, Buffer][]): Buffer {
  const encoded = elements.map(([element, value]) => {
    const header = Buffer.alloc(8);
    header.writeUInt16LE(0, 0);
    header.writeUInt16LE(element, 2);
    header.writeUInt32LE(value.length, 4);
    return Buffer.concat([header, value]);
  });
  const body = Buffer.concat(encoded);
  const length = Buffer.alloc(12);
  length.writeUInt32LE(4, 4);
  length.writeUInt32LE(body.length, 8);
  return Buffer.concat([length, body]);
}

const us = (value: number): Buffer => Buffer.from([value & 0xff, value >> 8]);
const ui = (value: string): Buffer => Buffer.from(value.length % 2 ? `${value}\0` : value, 'latin1');

function cStoreRq(messageId: number, sopInstanceUid: string, moveOriginator?: string): Buffer {
  return commandSet([
    [0x0002, ui(CT)],
    [0x0100, us(0x0001)],
    [0x0110, us(messageId)],
    [0x0700, us(0)],
    [0x0800, us(0x0000)],
    [0x1000, ui(sopInstanceUid)],
    ...(moveOriginator ? ([[0x1030, Buffer.from(moveOriginator.padEnd(16))]] as [number, Buffer][]) : []),
  ]);
}

/** An Explicit VR Little Endian dataset: Study and Series Instance UID, then `pixels` bytes of OW. */
function dataset(pixels: number): Buffer {
  const uidElement = (element: number, value: string): Buffer => {
    const v = ui(value);
    const header = Buffer.alloc(8);
    header.writeUInt16LE(0x0020, 0);
    header.writeUInt16LE(element, 2);
    header.write('UI', 4, 'latin1');
    header.writeUInt16LE(v.length, 6);
    return Buffer.concat([header, v]);
  };
  const pixelHeader = Buffer.alloc(12);
  pixelHeader.writeUInt16LE(0x7fe0, 0);
  pixelHeader.writeUInt16LE(0x0010, 2);
  pixelHeader.write('OW', 4, 'latin1');
  pixelHeader.writeUInt32LE(pixels, 8);
  const data = Buffer.alloc(pixels);
  for (let i = 0; i < pixels; i++) data[i] = (i * 7) & 0xff;
  return Buffer.concat([uidElement(0x000d, STUDY), uidElement(0x000e, SERIES), pixelHeader, data]);
}

/** A raw peer: sends bytes in the given splits, collects the PDUs that come back. */
class RawPeer {
  readonly socket: Socket;
  readonly pdus: { type: number; body: Buffer }[] = [];
  readonly closed: Promise<void>;
  #pending = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.#pending = Buffer.concat([this.#pending, chunk]);
      while (this.#pending.length >= 6 && this.#pending.length >= 6 + this.#pending.readUInt32BE(2)) {
        const length = this.#pending.readUInt32BE(2);
        this.pdus.push({ type: this.#pending[0], body: this.#pending.subarray(6, 6 + length) });
        this.#pending = this.#pending.subarray(6 + length);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
  }

  /** Writes `bytes` in pieces of `size` (1: byte by byte), each its own socket write. */
  async send(bytes: Buffer, size = bytes.length): Promise<void> {
    for (let at = 0; at < bytes.length; at += size) {
      await new Promise<void>((resolve) => this.socket.write(bytes.subarray(at, at + size), () => resolve()));
    }
  }

  async next(count = 1, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pdus.length < count) {
      if (Date.now() > deadline) throw new Error(`waited for ${count} PDUs, have ${this.pdus.length}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

/** The Status (0000,0900) of a C-STORE-RSP PDU (one PDV, command, last). */
function statusOf(body: Buffer): number {
  const command = body.subarray(6);
  for (let at = 0; at + 8 <= command.length; ) {
    const element = command.readUInt16LE(at + 2);
    const length = command.readUInt32LE(at + 4);
    if (element === 0x0900) return command.readUInt16LE(at + 8);
    at += 8 + length;
  }
  return -1;
}

describe('store SCP upper layer', () => {
  let work: string;
  let scp: StoreScp;
  let listener: StoredListener = () => undefined;

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'voxgate-scp-test-'));
    scp = await StoreScp.start({ aeTitle: AE, storageDir: path.join(work, 'in'), timeoutMs: 2000, onStored: (instance) => listener(instance) });
  });

  after(async () => {
    await scp?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const associate = async (peer: RawPeer, split?: number): Promise<void> => {
    await peer.send(
      associateRq(AE, 'RAWSCU', [
        { id: 1, abstract: CT, syntaxes: ['1.2.3.99', EXPLICIT_LE, IMPLICIT_LE] },
        { id: 3, abstract: '1.2.840.10008.5.1.4.1.2.2.1', syntaxes: [EXPLICIT_LE] },
        { id: 5, abstract: CT, syntaxes: ['1.2.3.99'] },
      ]),
      split,
    );
    await peer.next(1);
    assert.equal(peer.pdus[0].type, 0x02, 'A-ASSOCIATE-AC');
  };

  test('an A-ASSOCIATE-AC answers each context (accepted in our order of preference, abstract and transfer syntax refused) with our max PDU length', async () => {
    const peer = new RawPeer(scp.port);
    await associate(peer, 7);
    const body = peer.pdus[0].body;
    const results = new Map<number, { result: number; ts: string }>();
    let maxLength = 0;
    for (let at = 68; at < body.length; ) {
      const type = body[at];
      const length = body.readUInt16BE(at + 2);
      if (type === 0x21) results.set(body[at + 4], { result: body[at + 6], ts: body.subarray(at + 12, at + 4 + length).toString('latin1') });
      if (type === 0x50 && body[at + 4] === 0x51) maxLength = body.readUInt32BE(at + 8);
      at += 4 + length;
    }
    assert.deepEqual(results.get(1), { result: 0, ts: EXPLICIT_LE });
    assert.equal(results.get(3)?.result, 3);
    assert.equal(results.get(5)?.result, 4);
    assert.equal(maxLength, 256 * 1024);
    assert.equal(body.subarray(4, 20).toString('latin1'), AE.padEnd(16));
    peer.socket.destroy();
    await peer.closed;
  });

  test('a C-STORE sent byte by byte, its dataset cut into PDVs across PDUs (two PDVs in one), is stored whole behind a File Meta, with the move originator', async () => {
    const seen: Parameters<StoredListener>[0][] = [];
    listener = (instance) => void seen.push(instance);
    const peer = new RawPeer(scp.port);
    await associate(peer, 1);
    const data = dataset(3000);
    const command = cStoreRq(7, '1.2.3.4.5.6.7', 'MOVER');
    const bytes = Buffer.concat([
      pData({ id: 1, command: true, last: false, bytes: command.subarray(0, 10) }),
      pData({ id: 1, command: true, last: true, bytes: command.subarray(10) }),
      pData({ id: 1, command: false, last: false, bytes: data.subarray(0, 5) }, { id: 1, command: false, last: false, bytes: data.subarray(5, 1000) }),
      pData({ id: 1, command: false, last: false, bytes: Buffer.alloc(0) }),
      pData({ id: 1, command: false, last: true, bytes: data.subarray(1000) }),
    ]);
    await peer.send(bytes, 1);
    await peer.next(2);
    assert.equal(peer.pdus[1].type, 0x04);
    assert.equal(statusOf(peer.pdus[1].body), 0x0000);
    assert.equal(seen.length, 1);
    const instance = seen[0];
    assert.equal(instance.sopInstanceUid, '1.2.3.4.5.6.7');
    assert.equal(instance.transferSyntaxUid, EXPLICIT_LE);
    assert.equal(instance.moveOriginatorAeTitle, 'MOVER');
    assert.equal(instance.callingAeTitle, 'RAWSCU');
    assert.equal(instance.studyInstanceUid, STUDY);
    assert.equal(instance.seriesInstanceUid, SERIES);
    const file = await readFile(instance.path);
    const meta = readFileMeta(file);
    assert.ok(meta);
    assert.equal(meta.transferSyntaxUid, EXPLICIT_LE);
    assert.deepEqual(file.subarray(meta.datasetOffset), data);
    // A-RELEASE-RQ → A-RELEASE-RP.
    await peer.send(pdu(0x05, Buffer.alloc(4)));
    await peer.next(3);
    assert.equal(peer.pdus[2].type, 0x06);
    peer.socket.end();
    await peer.closed;
    listener = () => undefined;
  });

  test('an instance of several MiB (written through the thread pool past the first MiB) arrives whole; Study/Series are read when the first fragment is short', async () => {
    const seen: Parameters<StoredListener>[0][] = [];
    listener = (instance) => void seen.push(instance);
    const peer = new RawPeer(scp.port);
    await associate(peer);
    const data = dataset(5 * 1024 * 1024 + 3);
    const pdvs: Buffer[] = [pData({ id: 1, command: true, last: true, bytes: cStoreRq(1, '1.2.3.9') }), pData({ id: 1, command: false, last: false, bytes: data.subarray(0, 20) })];
    for (let at = 20; at < data.length; at += 60_000) pdvs.push(pData({ id: 1, command: false, last: at + 60_000 >= data.length, bytes: data.subarray(at, at + 60_000) }));
    await peer.send(Buffer.concat(pdvs), 100_000);
    await peer.next(2, 20_000);
    assert.equal(statusOf(peer.pdus[1].body), 0x0000);
    const file = await readFile(seen[0].path);
    assert.deepEqual(file.subarray(readFileMeta(file)!.datasetOffset), data);
    assert.equal(seen[0].studyInstanceUid, STUDY);
    assert.equal(seen[0].seriesInstanceUid, SERIES);
    peer.socket.destroy();
    listener = () => undefined;
  });

  test('A-RELEASE-RP waits for the C-STORE response still due; a listener that throws makes it 0xA700', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    listener = async () => {
      await gate;
      throw new Error('no room');
    };
    const peer = new RawPeer(scp.port);
    await associate(peer);
    await peer.send(Buffer.concat([pData({ id: 1, command: true, last: true, bytes: cStoreRq(3, '1.2.3.10') }), pData({ id: 1, command: false, last: true, bytes: dataset(10) }), pdu(0x05, Buffer.alloc(4))]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(peer.pdus.length, 1, 'nothing before the listener is done');
    release();
    await peer.next(3);
    assert.equal(peer.pdus[1].type, 0x04);
    assert.equal(statusOf(peer.pdus[1].body), 0xa700);
    assert.equal(peer.pdus[2].type, 0x06);
    peer.socket.destroy();
    listener = () => undefined;
  });

  test('protocol errors abort: a PDV on a refused context (reason 6), an unknown PDU type (reason 1); P-DATA before the association closes the connection', async () => {
    for (const [bytes, reason] of [
      [pData({ id: 5, command: true, last: true, bytes: cStoreRq(1, '1.2.3') }), 6],
      [pdu(0x09, Buffer.alloc(4)), 1],
    ] as const) {
      const peer = new RawPeer(scp.port);
      await associate(peer);
      await peer.send(bytes);
      await peer.closed;
      assert.equal(peer.pdus.at(-1)?.type, 0x07, 'A-ABORT');
      assert.deepEqual([...peer.pdus.at(-1)!.body], [0, 0, 2, reason]);
    }
    const early = new RawPeer(scp.port);
    await early.send(pData({ id: 1, command: true, last: true, bytes: cStoreRq(1, '1.2.3') }));
    await early.closed;
    assert.equal(early.pdus.length, 0);
    assert.equal(scp.activeAssociations, 0);
  });

  test('a peer that says nothing is disconnected after the timeout; one that goes silent mid-association is aborted', async () => {
    const silent = new RawPeer(scp.port);
    const started = Date.now();
    await silent.closed;
    assert.ok(Date.now() - started >= 1500, 'not before the timeout');
    const stalled = new RawPeer(scp.port);
    await associate(stalled);
    await stalled.closed;
    assert.equal(stalled.pdus.at(-1)?.type, 0x07);
  });

  test('a C-STORE whose file cannot be written is answered 0xA700, and the association goes on', async () => {
    const blocked = await StoreScp.start({ aeTitle: AE, storageDir: path.join(work, 'blocked') });
    try {
      // The association's folder cannot be made: a file stands where the storage folder's child would go.
      await rm(path.join(work, 'blocked'), { recursive: true, force: true });
      await writeFile(path.join(work, 'blocked'), 'not a folder');
      const peer = new RawPeer(blocked.port);
      await associate(peer);
      await peer.send(Buffer.concat([pData({ id: 1, command: true, last: true, bytes: cStoreRq(1, '1.2.3.11') }), pData({ id: 1, command: false, last: true, bytes: dataset(10) })]));
      await peer.next(2);
      assert.equal(statusOf(peer.pdus[1].body), 0xa700);
      await peer.send(pdu(0x05, Buffer.alloc(4)));
      await peer.next(3);
      assert.equal(peer.pdus[2].type, 0x06);
      peer.socket.destroy();
    } finally {
      await blocked.close();
    }
  });

  test('dcmjs-dimse as the SCU: C-ECHO, and C-STORE of datasets in Implicit VR Little Endian; associations are counted while open', async () => {
    const peer = { aeTitle: AE, host: '127.0.0.1', port: scp.port, callingAeTitle: 'DCMJS' };
    await cEcho(peer);
    const seen: Parameters<StoredListener>[0][] = [];
    let during = -1;
    listener = (instance) => {
      during = scp.activeAssociations;
      seen.push(instance);
    };
    const datasets = [1, 2].map(
      (n) =>
        new Dataset(
          { SOPClassUID: CT, SOPInstanceUID: `1.2.3.4.${n}`, StudyInstanceUID: STUDY, SeriesInstanceUID: SERIES, Modality: 'CT' },
          IMPLICIT_LE,
        ),
    );
    const result = await cStore(peer, datasets);
    assert.deepEqual(result.stored, ['1.2.3.4.1', '1.2.3.4.2']);
    assert.equal(during, 1);
    assert.deepEqual(
      seen.map((i) => [i.sopInstanceUid, i.callingAeTitle, i.calledAeTitle]),
      [
        ['1.2.3.4.1', 'DCMJS', AE],
        ['1.2.3.4.2', 'DCMJS', AE],
      ],
    );
    const file = await readFile(seen[0].path);
    const meta = readFileMeta(file)!;
    assert.deepEqual(readStudySeries(file, meta.datasetOffset, meta.transferSyntaxUid), { studyInstanceUid: STUDY, seriesInstanceUid: SERIES });
    for (let i = 0; i < 50 && scp.activeAssociations > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(scp.activeAssociations, 0);
    assert.ok((await readdir(path.join(work, 'in'))).length > 0);
    listener = () => undefined;
  });
});
