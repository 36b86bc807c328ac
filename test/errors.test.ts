import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ErrorCodes, VoxgateError } from '../src/errors.js';

test('every error code is documented in docs/errors.md with its HTTP status, and nothing else is', async () => {
  const doc = await readFile(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Map<string, number>();
  for (const m of doc.matchAll(/^\| `(VXG_ERR_[A-Z0-9_]+)` \| (\d{3}) \|/gm)) documented.set(m[1], Number(m[2]));
  const table = new Map(Object.entries(ErrorCodes).map(([code, { statusCode }]) => [code, statusCode]));
  assert.deepEqual([...documented].sort(), [...table].sort());
});

test('a VoxgateError carries its code, the table status and its cause', () => {
  const cause = new Error('inner');
  const err = new VoxgateError('VXG_ERR_VOLUME_TRUNCATED', 'The file ends early.', { cause });
  assert.equal(err.code, 'VXG_ERR_VOLUME_TRUNCATED');
  assert.equal(err.statusCode, 400);
  assert.equal(err.cause, cause);
  assert.equal(err.message, 'The file ends early.');
});
