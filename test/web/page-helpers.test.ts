/**
 * The page's pure helpers against the server's own rules: label groups and selectable classes
 * (src/pipeline/labels.ts, prompts.ts), the legend against the API's JSON summary
 * (src/pipeline/label-summary.ts), and readable messages from the NIM error bodies.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeApiError } from '../../src/web/api-errors.js';
import { LABEL_GROUPS, NOT_COMPUTED, SECTIONS, acceptsPoints, isClassSelectable, pickerEntries, sectionOf } from '../../src/web/label-groups.js';
import { countLabels, formatMl, legendEntries } from '../../src/web/label-stats.js';
import { voxelVolumeMm3 } from '../../src/web/voxel-index.js';
import { CLASSIC_ENGINE_INFO } from '../../src/engines/classic/classic-engine.js';
import type { EngineInfo } from '../../src/engines/engine.js';
import { summarizeLabels } from '../../src/pipeline/label-summary.js';
import { LABEL_GROUPS as SERVER_GROUPS, labelsObject } from '../../src/pipeline/labels.js';
import { resolvePrompts } from '../../src/pipeline/prompts.js';
import { createVolume } from '../../src/volume/volume.js';

const labels = labelsObject();

describe('class picker', () => {
  test('knows the same groups as the server', () => {
    assert.deepEqual([...LABEL_GROUPS], [...SERVER_GROUPS]);
  });

  test('offers exactly the classes the server accepts from a class prompt', () => {
    const engines: EngineInfo[] = [
      CLASSIC_ENGINE_INFO,
      { ...CLASSIC_ENGINE_INFO, name: 'members', supportedClasses: [1, 3, 5, 14, 28, 29, 30, 31, 32] },
    ];
    for (const engine of engines) {
      const supported = new Set(engine.supportedClasses);
      for (let index = 1; index <= 132; index++) {
        let accepted = true;
        try {
          resolvePrompts({ classes: [index] }, engine);
        } catch {
          accepted = false;
        }
        assert.equal(isClassSelectable(index, supported), accepted, `${engine.name}: class ${index} (${labels[String(index)]})`);
      }
    }
  });

  test('points may name any label but background, the groups and 255', () => {
    assert.deepEqual([0, 2, 20, 21, 255].map(acceptsPoints), [false, false, false, false, false]);
    assert.deepEqual([1, 6, 28, 132, 133].map(acceptsPoints), [true, true, true, true, true]);
  });

  test('sorts every label into a section, and searches by name or index', () => {
    const all = pickerEntries(labels, new Set(CLASSIC_ENGINE_INFO.supportedClasses));
    assert.deepEqual([...all.keys()], SECTIONS.filter((s) => all.has(s)));
    assert.equal([...all.values()].flat().length, 132);
    assert.equal(sectionOf('vertebrae T12'), 'Bones');
    assert.equal(sectionOf('left rib 11'), 'Bones');
    assert.equal(sectionOf('portal vein and splenic vein'), 'Vessels');
    assert.equal(sectionOf('left kidney cyst'), 'Lesions and tumours');
    assert.equal(sectionOf('right lung middle lobe'), 'Airway and lungs');
    assert.equal(sectionOf('left iliopsoas'), 'Muscles');
    assert.equal(sectionOf('liver'), 'Organs');
    const lung = pickerEntries(labels, new Set(CLASSIC_ENGINE_INFO.supportedClasses), 'LUNG');
    const lungs = lung.get('Airway and lungs') ?? [];
    assert.deepEqual(lungs.map((e) => e.index), [20, 28, 29, 30, 31, 32]);
    assert.deepEqual(lungs.map((e) => e.selectable), [true, false, false, false, false, false]);
    assert.deepEqual(lungs[0].members, ['left lung upper lobe', 'left lung lower lobe', 'right lung upper lobe', 'right lung middle lobe', 'right lung lower lobe']);
    assert.deepEqual([...pickerEntries(labels, new Set(), '132').values()].flat().map((e) => e.name), ['airway']);
  });
});

describe('legend', () => {
  test('counts and volumes equal the API’s JSON summary, without background and 255', () => {
    const affine = [-0.7, 0, 0, 10, 0, -0.7, 0, 20, 0, 0, 2.5, 30, 0, 0, 0, 1];
    const dims = [17, 13, 11] as const;
    const data = new Uint8Array(17 * 13 * 11).map((_, n) => [0, 0, 0, 21, 6, 255, 133][(n * 7919) % 7]);
    const summary = summarizeLabels(createVolume(dims, data, affine), { 133: 'my nodule' });
    const entries = legendEntries(countLabels(data), voxelVolumeMm3(affine), (i) => (i === 133 ? 'my nodule' : labels[String(i)]), () => [1, 2, 3]);
    assert.deepEqual(
      entries.map((e) => [e.index, e.name, e.voxels, e.ml]),
      Object.entries(summary)
        .filter(([index]) => Number(index) !== NOT_COMPUTED)
        .map(([index, s]) => [Number(index), s.name, s.voxels, s.volume_ml]),
    );
  });

  test('counts 16-bit labels and formats volumes readably', () => {
    assert.deepEqual([...countLabels(new Uint16Array([0, 300, 300, 65535]))], [[0, 1], [300, 2], [65535, 1]]);
    assert.deepEqual([412.4, 35.21, 3.456, 0.0411].map(formatMl), ['412 mL', '35.2 mL', '3.46 mL', '0.041 mL']);
  });
});

describe('API error messages', () => {
  test('422 schema details name the field without the body prefix', () => {
    const body = {
      detail: [
        { loc: ['body', 'prompts', 'points', 'aorta', 0], msg: 'Too small: expected array to have >=3 items', type: 'too_small' },
        { loc: ['body', 'image'], msg: 'Field required', type: 'missing' },
      ],
      code: 'VXG_ERR_REQUEST_INVALID',
    };
    assert.deepEqual(describeApiError(422, body), {
      message: 'prompts.points.aorta[0]: Too small: expected array to have >=3 items; image: Field required',
      code: 'VXG_ERR_REQUEST_INVALID',
    });
  });

  test('422 URL problems, 400 prompt problems, 500 failures and 401 are one sentence each', () => {
    assert.deepEqual(describeApiError(422, { detail: 'the image file /x.nii.gz was not found', code: 'VXG_ERR_IMAGE_FETCH' }), {
      message: 'the image file /x.nii.gz was not found',
      code: 'VXG_ERR_IMAGE_FETCH',
    });
    assert.deepEqual(describeApiError(400, { error_msg: [{ msg: 'Point [999, 0, 0] is outside the image' }], code: 'VXG_ERR_PROMPT_POINT_OUTSIDE' }), {
      message: 'Point [999, 0, 0] is outside the image',
      code: 'VXG_ERR_PROMPT_POINT_OUTSIDE',
    });
    assert.equal(describeApiError(500, { detail: 'Failed to Run Inference. Error: out of memory' }).message, 'Failed to Run Inference. Error: out of memory');
    assert.match(
      describeApiError(401, { statusCode: 401, code: 'VXG_ERR_AUTH_REQUIRED', error: 'Unauthorized', message: 'This server requires an API token.' }).message,
      /^This server needs an API token: enter it in the token field\. \(This server requires an API token\.\)$/,
    );
  });

  test('bodies without a message fall back to the status', () => {
    assert.equal(describeApiError(503, '').message, 'The server is not ready yet; try again shortly.');
    assert.equal(describeApiError(502, '', 'Bad Gateway').message, 'The server answered 502 Bad Gateway.');
    assert.equal(describeApiError(502, 'upstream timed out').message, 'upstream timed out');
  });
});
