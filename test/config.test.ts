import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENVIRONMENT_KEYS, loadConfig } from '../src/config.js';
import { isVoxgateError } from '../src/errors.js';

test('defaults serve the classic engine on port 8000 with the data folder ./data', () => {
  const config = loadConfig({ env: {} });
  assert.equal(config.port, 8000);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.engine, 'classic');
  assert.equal(config.dataDir, resolve('./data'));
  assert.deepEqual(config.allowPath, []);
  assert.deepEqual(config.tokens, []);
  assert.equal(config.worker, true);
});

test('flags win over the environment, the environment over the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'voxgate-config-'));
  try {
    const file = join(dir, 'voxgate.yaml');
    await writeFile(file, 'port: 9000\nhost: 127.0.0.1\nallow-path: [/srv/images]\nengine: classic\nlogLevel: warn\n');
    const config = loadConfig({
      file,
      env: { VOXGATE_PORT: '9100', VOXGATE_ALLOW_HOST: 'pacs.local:8042, 10.0.0.0/8', VOXGATE_LOG_LEVEL: 'debug' },
      flags: { logLevel: 'error' },
    });
    assert.equal(config.port, 9100);
    assert.equal(config.host, '127.0.0.1');
    assert.deepEqual(config.allowPath, ['/srv/images']);
    assert.deepEqual(config.allowHost, ['pacs.local:8042', '10.0.0.0/8']);
    assert.equal(config.logLevel, 'error');
    assert.equal(loadConfig({ file, env: { VOXGATE_PORT: '9100' }, flags: { port: '9200' } }).port, 9200);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('every setting has a VOXGATE_ environment variable', () => {
  assert.equal(ENVIRONMENT_KEYS.VOXGATE_ALLOW_PATH, 'allowPath');
  assert.equal(ENVIRONMENT_KEYS.VOXGATE_DATA_DIR, 'dataDir');
  assert.equal(ENVIRONMENT_KEYS.VOXGATE_TOKEN_FILE, 'tokenFile');
  assert.equal(ENVIRONMENT_KEYS.VOXGATE_MAX_DECODED_BYTES, 'maxDecodedBytes');
});

test('tokens come from the token file (comments and blank lines ignored) and VOXGATE_TOKENS', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'voxgate-config-'));
  try {
    const tokenFile = join(dir, 'tokens');
    await writeFile(tokenFile, '# ops team\nabc123\n\n  def456  \n');
    const config = loadConfig({ env: { VOXGATE_TOKENS: 'xyz' }, flags: { tokenFile } });
    assert.deepEqual(config.tokens, ['xyz', 'abc123', 'def456']);
  } finally {
    await rm(dir, { recursive: true });
  }
});

const invalid: [string, Parameters<typeof loadConfig>[0], RegExp][] = [
  ['a port out of range', { env: { VOXGATE_PORT: '70000' } }, /port: Too big/],
  ['an unknown engine', { flags: { engine: 'magic' } }, /engine: /],
  ['an unknown key in the file', { flags: { colour: 'blue' } as never }, /Unrecognized key/],
  ['a malformed allowed host', { flags: { allowHost: ['10.0.0.0/99'] } }, /10\.0\.0\.0\/99/],
  ['a missing config file', { file: '/nonexistent/voxgate.yaml', env: {} }, /Cannot read the configuration file \/nonexistent\/voxgate.yaml/],
];
for (const [what, sources, message] of invalid) {
  test(`rejects ${what} with VXG_ERR_CONFIG_INVALID`, () => {
    assert.throws(
      () => loadConfig({ env: {}, ...sources }),
      (err: unknown) => isVoxgateError(err, 'VXG_ERR_CONFIG_INVALID') && message.test(err.message),
    );
  });
}
