/**
 * The Voxgate page: open a volume, pick classes, click points, run the VISTA3D-compatible API, see
 * and download the label map. It uses the public API only, so it doubles as an example client.
 * @module
 */
import type { ImageSource, NimInfo, Sample } from './api.js';
import { ApiError, VoxgateApi, getToken, setToken } from './api.js';
import { labelColor } from './colors.js';
import { byId, el, formatBytes } from './dom.js';
import { JobsView } from './jobs.js';
import { NOT_COMPUTED } from './label-groups.js';
import type { LegendEntry, Rgb } from './label-stats.js';
import { countLabels, legendEntries } from './label-stats.js';
import { renderLegend } from './legend.js';
import type { ClickMode, PromptPoint } from './prompts.js';
import { PromptsPanel } from './prompts.js';
import type { ImageGeometry, ViewKind, WindowPreset } from './viewer.js';
import { Viewer } from './viewer.js';
import type { Triple } from './voxel-index.js';
import { fileVoxelIndex, voxelVolumeMm3 } from './voxel-index.js';

/** What tests (and curious developers) can read from the console: `window.__voxgate`. */
export interface VoxgateDebug {
  viewer: Viewer;
  /** The last click on the image: world mm and the file-order voxel index sent to the API. */
  lastClick: { mm: Triple; voxel: [number, number, number] } | null;
  geometry: ImageGeometry | null;
  legend: LegendEntry[];
  /** Milliseconds from navigation start until the page could be used (viewer up, info asked). */
  readyMs: number | null;
  /** Milliseconds from navigation start: script start, viewer attached (WebGL up), server info answered. */
  timings: { script: number; viewer?: number; info?: number };
  /** Canvas position (CSS px) of a world position, when it is on a shown 2D slice. */
  canvasPositionOf(mm: Triple): [number, number] | null;
}

declare global {
  interface Window {
    __voxgate?: VoxgateDebug;
  }
}

const api = new VoxgateApi();
const viewer = new Viewer(byId<HTMLCanvasElement>('viewer'));
const jobs = new JobsView(api);

let info: NimInfo | null = null;
let source: ImageSource | null = null;
let geometry: ImageGeometry | null = null;
let running: AbortController | null = null;
let viewerReady: Promise<void> = Promise.resolve();
let result: { colors: Map<number, Rgb>; hidden: Set<number>; entries: LegendEntry[]; notComputed: number; url: string } | null = null;

const debug: VoxgateDebug = {
  viewer,
  lastClick: null,
  geometry: null,
  legend: [],
  readyMs: null,
  timings: { script: performance.now() },
  canvasPositionOf: (mm) => viewer.canvasPositionOf(mm),
};
window.__voxgate = debug;

const prompts = new PromptsPanel({
  onPointsChange(points: readonly PromptPoint[], mode: ClickMode) {
    viewer.picking = mode !== 'navigate';
    viewer.setMarkers(points.map((p) => ({ mm: p.mm, positive: p.positive })));
    updateRunState();
  },
  onPointFocus(point) {
    viewer.goTo(point.mm);
  },
});

// ---------------------------------------------------------------- messages

function showMessage(text: string, kind: 'error' | 'info' = 'error'): void {
  const box = byId('messages');
  const item = el('div', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, el('span', {}, text));
  item.append(el('button', { class: 'icon', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×'));
  box.prepend(item);
  while (box.children.length > 3) box.lastElementChild?.remove();
  if (kind === 'info') setTimeout(() => item.remove(), 6000);
}

function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.code ? `${err.message} (${err.code})` : err.message;
  return err instanceof Error ? err.message : String(err);
}

function reportError(prefix: string, err: unknown): void {
  if ((err as Error)?.name === 'AbortError') return;
  showMessage(`${prefix}: ${errorText(err)}`);
  if (err instanceof ApiError && err.status === 401) byId<HTMLInputElement>('token').focus();
}

// ---------------------------------------------------------------- server

async function connect(): Promise<void> {
  const engine = byId('engine');
  try {
    info = await api.info();
    prompts.setInfo(info);
    // Earlier failures (a missing token, say) are solved now.
    byId('messages').replaceChildren();
    engine.textContent = info.engine ? `${info.engine.name} engine · ${info.version}` : info.name;
    engine.dataset.state = 'ok';
    document.body.dataset.needsToken = 'false';
  } catch (err) {
    engine.textContent = err instanceof ApiError && err.status === 401 ? 'token needed' : 'not connected';
    engine.dataset.state = 'error';
    document.body.dataset.needsToken = String(err instanceof ApiError && err.status === 401);
    reportError('Cannot read /v1/vista3d/info', err);
    return;
  }
  await Promise.all([loadSamples(), jobs.start()]);
}

async function loadSamples(): Promise<void> {
  const select = byId<HTMLSelectElement>('sample-select');
  let samples: Sample[] = [];
  try {
    samples = await api.samples();
  } catch (err) {
    reportError('Cannot list the server samples', err);
  }
  select.replaceChildren(
    el('option', { value: '' }, samples.length > 0 ? `Server samples (${samples.length})…` : 'No samples on this server'),
    ...samples.map((s) => el('option', { value: s.path, title: s.path }, `${s.name} · ${formatBytes(s.bytes)}`)),
  );
  select.disabled = samples.length === 0;
  byId<HTMLButtonElement>('sample-open').disabled = true;
}

byId('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = byId<HTMLInputElement>('token');
  setToken(input.value.trim());
  input.value = '';
  input.placeholder = getToken() ? 'token kept for this tab' : 'only if the server asks';
  void connect();
});
byId('token-forget').addEventListener('click', () => {
  setToken('');
  byId<HTMLInputElement>('token').placeholder = 'only if the server asks';
  showMessage('Token forgotten.', 'info');
});
if (getToken()) byId<HTMLInputElement>('token').placeholder = 'token kept for this tab';

// ---------------------------------------------------------------- image

async function openImage(bytes: ArrayBuffer, name: string, next: ImageSource, origin: string): Promise<void> {
  await viewerReady;
  clearResult();
  prompts.points = [];
  prompts.setMode(prompts.mode);
  geometry = await viewer.loadImage(bytes, name);
  source = next;
  debug.geometry = geometry;
  debug.lastClick = null;
  const [nx, ny, nz] = geometry.dims;
  const spacing = [0, 1, 2].map((c) => Math.hypot(geometry!.affine[c], geometry!.affine[4 + c], geometry!.affine[8 + c]).toFixed(2));
  byId('image-info').textContent = `${name} (${origin}): ${nx} × ${ny} × ${nz} voxels, ${spacing.join(' × ')} mm`;
  document.body.dataset.image = 'loaded';
  updateRunState();
}

async function withBusy<T>(text: string, work: () => Promise<T>): Promise<T> {
  const busy = byId('busy');
  byId('busy-text').textContent = text;
  busy.hidden = false;
  try {
    return await work();
  } finally {
    busy.hidden = true;
  }
}

byId<HTMLInputElement>('file-input').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  void withBusy(`Reading ${file.name}…`, async () => openImage(await file.arrayBuffer(), file.name, { kind: 'upload', file, name: file.name }, 'from your disk')).catch((err) =>
    reportError(`Cannot open ${file.name}`, err),
  );
});

byId<HTMLSelectElement>('sample-select').addEventListener('change', (e) => {
  byId<HTMLButtonElement>('sample-open').disabled = !(e.target as HTMLSelectElement).value;
});
byId('sample-open').addEventListener('click', () => {
  const path = byId<HTMLSelectElement>('sample-select').value;
  if (!path) return;
  const name = path.split(/[\\/]/).pop() ?? path;
  void withBusy(`Loading ${name}…`, async () => openImage(await api.sampleBytes(path), name, { kind: 'reference', image: path }, 'server sample')).catch((err) =>
    reportError(`Cannot open the sample ${name}`, err),
  );
});

byId('url-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = byId<HTMLInputElement>('url-input').value.trim();
  if (!url) return;
  const name = decodeURIComponent(new URL(url, location.href).pathname.split('/').pop() || 'image');
  void withBusy(`Fetching ${name}…`, async () => {
    let bytes: ArrayBuffer;
    try {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
      bytes = await res.arrayBuffer();
    } catch (err) {
      throw new Error(
        `the browser cannot fetch it to display it (${(err as Error).message}; the site may not allow other origins). The server may still be able to: upload the file instead to click points on it.`,
      );
    }
    await openImage(bytes, name, { kind: 'reference', image: url }, 'URL');
  }).catch((err) => reportError(`Cannot open ${url}`, err));
});

// ---------------------------------------------------------------- view

function press(selector: string, active: HTMLElement): void {
  for (const b of document.querySelectorAll<HTMLElement>(selector)) b.setAttribute('aria-pressed', String(b === active));
}
for (const button of document.querySelectorAll<HTMLButtonElement>('[data-view]')) {
  button.addEventListener('click', () => {
    viewer.setView(button.dataset.view as ViewKind);
    press('[data-view]', button);
  });
}
for (const button of document.querySelectorAll<HTMLButtonElement>('[data-window]')) {
  button.addEventListener('click', () => {
    viewer.setWindow(button.dataset.window as WindowPreset);
    press('[data-window]', button);
  });
}

viewer.onPick = (mm) => {
  if (!geometry) return;
  const voxel = fileVoxelIndex(geometry.affine, mm, geometry.dims);
  if (!voxel) {
    showMessage('That point is outside the image.');
    return;
  }
  debug.lastClick = { mm, voxel };
  prompts.addPoint({ mm, voxel, positive: prompts.mode === 'positive' });
};

byId<HTMLInputElement>('point-object').addEventListener('input', () => prompts.setMode(prompts.mode));

// ---------------------------------------------------------------- run

function updateRunState(): void {
  byId<HTMLButtonElement>('run').disabled = !source || running !== null;
  byId('run-summary').textContent = prompts.summary();
}
document.addEventListener('change', (e) => {
  if ((e.target as HTMLElement).closest('#class-list')) updateRunState();
});
byId('clear-classes').addEventListener('click', updateRunState);

function clearResult(): void {
  if (result) URL.revokeObjectURL(result.url);
  result = null;
  debug.legend = [];
  byId('result').hidden = true;
  delete document.body.dataset.result;
}

byId('run').addEventListener('click', () => void run());
byId('cancel').addEventListener('click', () => running?.abort());

async function run(): Promise<void> {
  if (!source || !geometry || running) return;
  const asked = prompts.prompts();
  if ('problem' in asked) {
    showMessage(asked.problem);
    return;
  }
  running = new AbortController();
  updateRunState();
  const status = byId('run-status');
  status.textContent = source.kind === 'upload' ? 'Uploading and segmenting…' : 'Segmenting…';
  byId('cancel').hidden = false;
  document.body.dataset.result = 'running';
  try {
    const answer = await withBusy('Segmenting…', () => api.segment(source!, asked.prompts, running!.signal));
    const colors = new Map<number, Rgb>();
    for (let index = 1; index < NOT_COMPUTED; index++) colors.set(index, labelColor(index));
    colors.set(NOT_COMPUTED, [110, 116, 128]);
    clearResult();
    const values = await viewer.showLabels(answer.bytes, answer.fileName, colors);
    const counts = countLabels(values);
    const zeroShotNames = new Map(Object.entries(answer.zeroShot).map(([name, index]) => [index, name]));
    const entries = legendEntries(counts, voxelVolumeMm3(geometry.affine), (i) => info?.labels[String(i)] ?? zeroShotNames.get(i), labelColor);
    const url = URL.createObjectURL(new Blob([answer.bytes], { type: 'application/gzip' }));
    result = { colors, hidden: new Set(), entries, notComputed: counts.get(NOT_COMPUTED) ?? 0, url };
    debug.legend = entries;
    renderLegend(entries, result.hidden, result.notComputed, (index, visible) => {
      if (!result) return;
      if (visible) result.hidden.delete(index);
      else result.hidden.add(index);
      viewer.setHiddenLabels(result.colors, result.hidden);
    });
    const download = byId<HTMLAnchorElement>('download');
    download.href = url;
    download.download = answer.fileName;
    byId('result').hidden = false;
    status.textContent = `Done in ${(answer.elapsedMs / 1000).toFixed(1)} s by the ${answer.engine ?? '?'} engine${answer.timing ? ` (${answer.timing.replaceAll(';', ', ').replaceAll('=', ' ')} ms)` : ''}.`;
    document.body.dataset.result = 'shown';
  } catch (err) {
    status.textContent = (err as Error).name === 'AbortError' ? 'Cancelled.' : 'Failed.';
    document.body.dataset.result = 'failed';
    reportError('Segmentation failed', err);
  } finally {
    running = null;
    byId('cancel').hidden = true;
    updateRunState();
  }
}

byId<HTMLInputElement>('opacity').addEventListener('input', (e) => viewer.setLabelOpacity(Number((e.target as HTMLInputElement).value) / 100));

// ---------------------------------------------------------------- start

/**
 * The page is ready once the server has answered (classes, samples, token state) and the viewer's
 * WebGL is set up. The API calls go out first: NiiVue's shader compilation holds the main thread
 * for a while (longest without a GPU) and need not delay them.
 */
async function start(): Promise<void> {
  const connected = connect().then(() => (debug.timings.info = performance.now()));
  viewerReady = viewer.attach().then(() => {
    debug.timings.viewer = performance.now();
    document.body.dataset.viewer = 'ready';
  });
  viewerReady.catch((err) => reportError('The image viewer could not start (it needs WebGL 2)', err));
  await Promise.allSettled([connected, viewerReady]);
  debug.readyMs = performance.now();
  document.body.dataset.ready = 'true';
}

start().catch((err) => reportError('The page could not start', err));
