import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createKernelMemory, keptKernelMemory } from '../../src/engines/onnx/simd-kernel.js';
import { ScratchBuffers } from '../../src/volume/scratch-buffers.js';

describe('kept working memory', () => {
  test('an array is kept per purpose and handed out again for the same or a smaller size', () => {
    const scratch = new ScratchBuffers();
    const a = scratch.array<Float32Array>('grid', 'float32', 1000);
    a.fill(7);
    const b = scratch.array<Float32Array>('grid', 'float32', 600);
    assert.equal(b.buffer, a.buffer);
    assert.equal(b.length, 600);
    assert.equal(b[599], 7, 'not zeroed: the caller fills what it needs');
    assert.notEqual(scratch.array('grid', 'float32', 1001).buffer, a.buffer, 'larger: a new one');
    assert.notEqual(scratch.array('grid', 'int16', 10).buffer, a.buffer, 'another type: a new one');
    assert.notEqual(scratch.array('labels', 'float32', 10).buffer, a.buffer, 'another purpose: its own');
    assert.equal(scratch.bytes, 2 * 10 + 4 * 10);
  });

  test('beyond maxBytes an array is used once and not kept', () => {
    const scratch = new ScratchBuffers(4000);
    const kept = scratch.array('a', 'float32', 900);
    const once = scratch.array('b', 'float32', 200);
    assert.equal(scratch.bytes, 3600);
    assert.equal(scratch.array('a', 'float32', 900).buffer, kept.buffer);
    assert.notEqual(scratch.array('b', 'float32', 200).buffer, once.buffer);
    scratch.clear();
    assert.equal(scratch.bytes, 0);
  });

  test('kernel memory comes back zeroed where it was used, and its multiply-add rounds the product to float32', () => {
    const scratch = new ScratchBuffers();
    const memory = keptKernelMemory(scratch, 64);
    assert.ok(memory, 'WebAssembly SIMD is available');
    const at = memory.alloc(10);
    memory.f32.fill(3, at, at + 10);
    const again = keptKernelMemory(scratch, 32);
    assert.equal(again, memory);
    const fresh = again.alloc(12);
    assert.equal(fresh, at);
    assert.deepEqual([...again.f32.subarray(fresh, fresh + 12)], new Array(12).fill(0));
    // 5 columns × 2 rows into rows 8 floats apart: one vector and one scalar per row.
    const k = createKernelMemory(64)!;
    const [dst, src, w] = [k.alloc(16), k.alloc(10), k.alloc(10)];
    for (let i = 0; i < 10; i++) {
      k.f32[src + i] = 1 / 3 + i;
      k.f32[w + i] = 0.1 * (i + 1);
    }
    k.f32.fill(1, dst, dst + 16);
    k.madd(dst, src, w, 5, 2, 8);
    const expected = Array.from({ length: 16 }, (_, n) => {
      const [y, x] = [Math.floor(n / 8), n % 8];
      if (x >= 5) return 1;
      const i = y * 5 + x;
      return Math.fround(1 + Math.fround(k.f32[src + i] * k.f32[w + i]));
    });
    assert.deepEqual([...k.f32.subarray(dst, dst + 16)], expected);
  });
});
