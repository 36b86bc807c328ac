/**
 * The jobs view: inference jobs (ACR requests, DICOM-received studies) with state, progress and
 * message, polled every few seconds. The jobs API is not part of every server yet: the view asks
 * `GET /api/jobs` once and, on a 404, hides itself behind a one-line note.
 * @module
 */
import type { JobSummary, VoxgateApi } from './api.js';
import { ApiError } from './api.js';
import { byId, el } from './dom.js';

const POLL_MS = 3000;

export class JobsView {
  readonly #api: VoxgateApi;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** null until asked; false when the server has no jobs API. */
  available: boolean | null = null;

  constructor(api: VoxgateApi) {
    this.#api = api;
  }

  /** Asks once whether the server has a jobs API; starts polling when it has. */
  async start(): Promise<void> {
    clearTimeout(this.#timer);
    const section = byId('jobs');
    let jobs: JobSummary[] | null;
    try {
      jobs = await this.#api.jobs();
    } catch (err) {
      section.hidden = false;
      section.dataset.state = 'error';
      byId('jobs-body').replaceChildren(el('p', { class: 'muted' }, `Jobs cannot be listed: ${err instanceof ApiError ? err.message : String(err)}`));
      return;
    }
    this.available = jobs !== null;
    section.hidden = false;
    section.dataset.state = this.available ? 'available' : 'unavailable';
    if (jobs === null) {
      byId('jobs-body').replaceChildren(el('p', { class: 'muted' }, 'This server has no jobs API yet (GET /api/jobs answered 404); DICOM and ACR jobs will be listed here once it has.'));
      return;
    }
    this.#render(jobs);
    this.#timer = setTimeout(() => void this.#poll(), POLL_MS);
  }

  async #poll(): Promise<void> {
    try {
      const jobs = await this.#api.jobs();
      if (jobs) this.#render(jobs);
    } catch {
      // A failed poll keeps the last list; the next poll tries again.
    }
    this.#timer = setTimeout(() => void this.#poll(), document.hidden ? POLL_MS * 5 : POLL_MS);
  }

  /** Lists a job's result files as downloads (fetched with the token, then saved from a blob). */
  async #showResults(jobId: string, cell: HTMLElement): Promise<void> {
    try {
      const results = await this.#api.jobResults(jobId);
      if (results.length === 0) {
        cell.replaceChildren(el('span', { class: 'muted' }, 'none yet'));
        return;
      }
      cell.replaceChildren(
        ...results.map((r) =>
          el('button', {
            class: 'link',
            title: r.type ?? '',
            onclick: () =>
              void this.#api.download(r.url).then((blob) => {
                const url = URL.createObjectURL(blob);
                el('a', { href: url, download: r.name }).click();
                setTimeout(() => URL.revokeObjectURL(url), 10_000);
              }),
          }, r.name),
        ),
      );
    } catch (err) {
      cell.replaceChildren(el('span', { class: 'muted' }, err instanceof ApiError ? err.message : String(err)));
    }
  }

  #render(jobs: readonly JobSummary[]): void {
    if (jobs.length === 0) {
      byId('jobs-body').replaceChildren(el('p', { class: 'muted' }, 'No jobs yet.'));
      return;
    }
    const rows = jobs.slice(0, 50).map((job) => {
      const id = job.jobId ?? job.id ?? job.transactionId ?? '';
      const state = job.state ?? job.platform?.state ?? job.dicom?.state ?? '?';
      const status = job.status ?? job.platform?.status ?? job.dicom?.status;
      const raw = job.progress ?? job.platform?.progress;
      const progress = typeof raw === 'number' ? Math.round(raw <= 1 ? raw * 100 : raw) : null;
      const files = el('td', {});
      if (id) files.append(el('button', { class: 'link', onclick: () => void this.#showResults(id, files) }, 'results'));
      return el(
        'tr',
        { 'data-job': id },
        el('td', { class: 'mono', title: id }, id.slice(0, 12)),
        el('td', {}, el('span', { class: `state state-${(status ?? state).toLowerCase()}`, title: status ?? '' }, state)),
        el('td', {}, progress === null ? '' : el('progress', { max: 100, value: progress }, `${progress}%`)),
        el('td', {}, job.message ?? ''),
        files,
      );
    });
    byId('jobs-body').replaceChildren(
      el('table', { class: 'jobs' }, el('thead', {}, el('tr', {}, ...['job', 'state', 'progress', 'message', ''].map((h) => el('th', {}, h)))), el('tbody', {}, ...rows)),
    );
  }
}
