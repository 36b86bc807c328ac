import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DicomwebClient } from '../../src/dicom/net/dicomweb-client.js';
import { PeerError, isTransient } from '../../src/dicom/net/errors.js';
import { encodeFileMeta } from '../../src/dicom/net/part10.js';

const BOUNDARY = 'b0und4ry';
const CONTENT_TYPE = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;

function instance(sop: string, bytes = 4096): Buffer {
  return Buffer.concat([encodeFileMeta({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: sop, transferSyntaxUid: '1.2.840.10008.1.2.1' }), Buffer.alloc(bytes, 1)]);
}

function multipart(parts: readonly Buffer[]): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) pieces.push(Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\nContent-Length: ${part.length}\r\n\r\n`), part, Buffer.from('\r\n'));
  pieces.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(pieces);
}

/**
 * A raw TCP server speaking just enough HTTP/1.1 to control the bytes and the connections: `answer`
 * gets each request (the n-th overall, on the c-th connection) and writes what it likes.
 */
async function rawServer(answer: (socket: Socket, request: { n: number; connection: number; head: string }) => void): Promise<{ server: Server; uri: string; connections: () => number }> {
  let connections = 0;
  let n = 0;
  const server = createServer((socket) => {
    const connection = ++connections;
    let pending = '';
    socket.on('data', (data) => {
      pending += data.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        answer(socket, { n: ++n, connection, head });
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, uri: `http://127.0.0.1:${(server.address() as { port: number }).port}/dicom-web`, connections: () => connections };
}

async function withDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'voxgate-http-stream-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('WADO-RS answers framed by Content-Length are read on one kept connection; the request carries Accept and Authorization', async () => {
  const body = multipart([instance('1.2.3.1'), instance('1.2.3.2')]);
  const heads: string[] = [];
  const { server, uri, connections } = await rawServer((socket, { head }) => {
    heads.push(head);
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${CONTENT_TYPE}\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body);
  });
  await withDir(async (dir) => {
    const client = new DicomwebClient({ uri, auth: { type: 'Bearer', id: 'token-1' } });
    for (const sub of ['a', 'b']) {
      const result = await client.retrieve({ study: '1.2.3' }, path.join(dir, sub));
      assert.deepEqual(result.instances.map((i) => i.sopInstanceUid), ['1.2.3.1', '1.2.3.2']);
    }
    client.close();
    assert.equal(connections(), 1);
    assert.match(heads[0], /^GET \/dicom-web\/studies\/1\.2\.3 HTTP\/1\.1\r\n/);
    assert.match(heads[0], /\r\naccept: multipart\/related; type="application\/dicom"; transfer-syntax=\*/);
    assert.match(heads[0], /\r\nauthorization: Bearer token-1/);
  });
  server.close();
});

test('a kept connection that the server dropped meanwhile is replaced, and the request sent again', async () => {
  const body = multipart([instance('1.2.3.1')]);
  const { server, uri, connections } = await rawServer((socket, { n }) => {
    if (n === 2) {
      socket.destroy(); // as a server whose keep-alive timeout ran out just as the request came
      return;
    }
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${CONTENT_TYPE}\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body);
  });
  await withDir(async (dir) => {
    const client = new DicomwebClient({ uri });
    await client.retrieve({ study: '1.2.3' }, path.join(dir, 'a'));
    const again = await client.retrieve({ study: '1.2.3' }, path.join(dir, 'b'));
    assert.equal(again.instances.length, 1);
    assert.equal(connections(), 2);
    client.close();
  });
  server.close();
});

test('a chunked answer in odd pieces, with chunk extensions, trailers and a 100 Continue first, is read whole', async () => {
  const body = multipart([instance('1.2.3.1', 70_000), instance('1.2.3.2', 10)]);
  const chunked: Buffer[] = [];
  for (let at = 0, size = 1; at < body.length; at += size, size = (size * 7 + 3) % 9000) {
    const piece = body.subarray(at, at + size);
    chunked.push(Buffer.from(`${piece.length.toString(16)};ext=1\r\n`), piece, Buffer.from('\r\n'));
  }
  chunked.push(Buffer.from('0\r\nX-Trailer: yes\r\n\r\n'));
  const wire = Buffer.concat([Buffer.from(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: ${CONTENT_TYPE}\r\nTransfer-Encoding: chunked\r\n\r\n`), ...chunked]);
  const { server, uri } = await rawServer((socket) => {
    socket.setNoDelay(true);
    let at = 0;
    const next = (): void => {
      if (at >= wire.length) return;
      socket.write(wire.subarray(at, (at += 4093)), () => setImmediate(next));
    };
    next();
  });
  await withDir(async (dir) => {
    const client = new DicomwebClient({ uri });
    const result = await client.retrieve({ study: '1.2.3' }, dir);
    assert.deepEqual(result.instances.map((i) => [i.sopInstanceUid, i.bytes]), [
      ['1.2.3.1', instance('1.2.3.1', 70_000).length],
      ['1.2.3.2', instance('1.2.3.2', 10).length],
    ]);
    client.close();
  });
  server.close();
});

test('a body cut short of its Content-Length is a transient error, the part in progress is deleted and complete parts stay', async () => {
  const body = multipart([instance('1.2.3.1'), instance('1.2.3.2', 200_000)]);
  const { server, uri } = await rawServer((socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${CONTENT_TYPE}\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.end(body.subarray(0, body.length - 1000));
  });
  await withDir(async (dir) => {
    const client = new DicomwebClient({ uri });
    await assert.rejects(client.retrieve({ study: '1.2.3' }, dir), (err: unknown) => err instanceof PeerError && err.code === 'VXG_ERR_DICOMWEB_UNREACHABLE' && isTransient(err));
    assert.deepEqual(await readdir(dir), ['1.2.3.1.dcm']);
    client.close();
  });
  server.close();
});

test('onInstance is awaited before the next part is written, and what it throws comes out unchanged', async () => {
  const body = multipart([instance('1.2.3.1'), instance('1.2.3.2'), instance('1.2.3.3')]);
  const { server, uri } = await rawServer((socket) => {
    socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${CONTENT_TYPE}\r\nConnection: close\r\n\r\n`), body]));
  });
  await withDir(async (dir) => {
    const client = new DicomwebClient({ uri });
    const onDisk: number[] = [];
    await client.retrieve({ study: '1.2.3' }, path.join(dir, 'a'), {
      onInstance: async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        onDisk.push((await readdir(path.join(dir, 'a'))).length);
      },
    });
    assert.deepEqual(onDisk, [1, 2, 3]);
    const refusal = new Error('the job lost its lease');
    await assert.rejects(
      client.retrieve({ study: '1.2.3' }, path.join(dir, 'b'), {
        onInstance: async () => {
          throw refusal;
        },
      }),
      (err: unknown) => err === refusal,
    );
    assert.deepEqual(await readdir(path.join(dir, 'b')), ['1.2.3.1.dcm']);
    client.close();
  });
  server.close();
});

test('a retrieve cancelled while onInstance runs rejects only once onInstance is over, and writes nothing more', async () => {
  const body = multipart([instance('1.2.3.1'), instance('1.2.3.2'), instance('1.2.3.3')]);
  const { server, uri } = await rawServer((socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${CONTENT_TYPE}\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body);
  });
  await withDir(async (dir) => {
    const client = new DicomwebClient({ uri });
    const controller = new AbortController();
    const events: string[] = [];
    const retrieving = client.retrieve({ study: '1.2.3' }, dir, {
      signal: controller.signal,
      onInstance: async () => {
        controller.abort();
        await new Promise((resolve) => setTimeout(resolve, 50));
        events.push('onInstance over');
      },
    });
    await assert.rejects(
      retrieving.finally(() => events.push('rejected')),
      (err: unknown) => err instanceof PeerError && /cancelled/.test(err.message),
    );
    assert.deepEqual(events, ['onInstance over', 'rejected']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(await readdir(dir), ['1.2.3.1.dcm']);
    client.close();
  });
  server.close();
});

test('a retrieve cancelled by its signal mid-body stops, deletes the part in progress and is not transient', async () => {
  const body = multipart([instance('1.2.3.1'), instance('1.2.3.2', 300_000)]);
  const { server, uri } = await rawServer((socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${CONTENT_TYPE}\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.subarray(0, body.length - 100_000)); // and the rest never comes
  });
  await withDir(async (dir) => {
    const client = new DicomwebClient({ uri });
    const controller = new AbortController();
    const retrieving = client.retrieve({ study: '1.2.3' }, dir, { signal: controller.signal, onInstance: () => void setTimeout(() => controller.abort(), 50) });
    await assert.rejects(retrieving, (err: unknown) => err instanceof PeerError && err.code === 'VXG_ERR_DICOMWEB_UNREACHABLE' && !isTransient(err) && /cancelled/.test(err.message));
    assert.deepEqual(await readdir(dir), ['1.2.3.1.dcm']);
    client.close();
  });
  server.close();
});

test('a server silent on a kept connection is VXG_ERR_DICOMWEB_TIMEOUT, transient', async () => {
  const body = multipart([instance('1.2.3.1')]);
  const { server, uri, connections } = await rawServer((socket, { n }) => {
    if (n > 1) return; // heard, never answered
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${CONTENT_TYPE}\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body);
  });
  await withDir(async (dir) => {
    const client = new DicomwebClient({ uri, timeoutMs: 300 });
    await client.retrieve({ study: '1.2.3' }, path.join(dir, 'a'));
    await assert.rejects(client.retrieve({ study: '1.2.3' }, path.join(dir, 'b')), (err: unknown) => err instanceof PeerError && err.code === 'VXG_ERR_DICOMWEB_TIMEOUT' && isTransient(err));
    assert.equal(connections(), 1);
    client.close();
  });
  server.close();
});
