/**
 * The prompts panel: classes picked from `/v1/vista3d/info` (search box, anatomical sections, only
 * classes the engine can segment from a class prompt are selectable) and clicked points (positive
 * or negative, listed with their file-order voxel indices), turned into the NIM `prompts` object.
 * @module
 */
import type { NimInfo, NimPrompts } from './api.js';
import { cssColor, labelColor } from './colors.js';
import { byId, el } from './dom.js';
import { LABEL_GROUPS, acceptsPoints, pickerEntries } from './label-groups.js';
import type { Triple } from './voxel-index.js';

export type ClickMode = 'navigate' | 'positive' | 'negative';

export interface PromptPoint {
  /** World position clicked (RAS mm). */
  mm: Triple;
  /** File-order voxel index sent to the API. */
  voxel: [number, number, number];
  positive: boolean;
}

export interface PromptsEvents {
  /** Points or mode changed: redraw markers, switch picking. */
  onPointsChange(points: readonly PromptPoint[], mode: ClickMode): void;
  /** A listed point was clicked: show it. */
  onPointFocus(point: PromptPoint): void;
}

/** The object the points mark when the user names none: a zero-shot label of that name. */
export const DEFAULT_POINT_OBJECT = 'object';

export class PromptsPanel {
  readonly classes = new Set<number>();
  points: PromptPoint[] = [];
  mode: ClickMode = 'navigate';
  #info: NimInfo | undefined;
  #supported = new Set<number>();
  readonly #events: PromptsEvents;

  constructor(events: PromptsEvents) {
    this.#events = events;
    byId<HTMLInputElement>('class-search').addEventListener('input', () => this.#renderClasses());
    for (const button of document.querySelectorAll<HTMLButtonElement>('[data-mode]')) {
      button.addEventListener('click', () => this.setMode(button.dataset.mode as ClickMode));
    }
    byId('clear-points').addEventListener('click', () => {
      this.points = [];
      this.#changed();
    });
    byId('clear-classes').addEventListener('click', () => {
      this.classes.clear();
      this.#renderClasses();
    });
    this.#renderPoints();
  }

  /** Fills the picker from `/v1/vista3d/info`. */
  setInfo(info: NimInfo): void {
    this.#info = info;
    this.#supported = new Set(info.engine?.supported_classes ?? []);
    const names = byId<HTMLDataListElement>('point-labels');
    names.replaceChildren(
      ...Object.entries(info.labels)
        .filter(([key]) => acceptsPoints(Number(key)))
        .map(([, name]) => el('option', { value: name })),
    );
    const pointsAllowed = info.engine?.point_prompts !== false;
    for (const button of document.querySelectorAll<HTMLButtonElement>('[data-mode="positive"], [data-mode="negative"]')) {
      button.disabled = !pointsAllowed;
      if (!pointsAllowed) button.title = `The ${info.engine?.name ?? ''} engine does not take point prompts.`;
    }
    this.#renderClasses();
  }

  setMode(mode: ClickMode): void {
    this.mode = mode;
    for (const button of document.querySelectorAll<HTMLButtonElement>('[data-mode]')) {
      button.setAttribute('aria-pressed', String(button.dataset.mode === mode));
    }
    this.#changed();
  }

  /** Records a click (the caller has mapped it to the file's voxel index). */
  addPoint(point: PromptPoint): void {
    this.points.push(point);
    this.#changed();
  }

  /** The name the points are sent under (a label name, or a new name for a zero-shot object). */
  pointObject(): string {
    return byId<HTMLInputElement>('point-object').value.trim() || DEFAULT_POINT_OBJECT;
  }

  /**
   * The NIM `prompts` object, or a message saying why the current choice cannot be sent.
   * No classes and no points means "everything the engine supports".
   */
  prompts(): { prompts: NimPrompts } | { problem: string } {
    const prompts: NimPrompts = {};
    if (this.classes.size > 0) prompts.classes = [...this.classes].sort((a, b) => a - b);
    if (this.points.length > 0) {
      const key = this.pointObject();
      const index = this.#indexOf(key);
      if (index !== undefined && LABEL_GROUPS.has(index)) {
        return { problem: `Points cannot mark the group "${key}"; name one of its members (e.g. ${this.#memberExample(index)}).` };
      }
      if (!this.points.some((p) => p.positive)) return { problem: 'Add at least one positive (inside) point; negative points only refine one.' };
      prompts.points = { [key]: this.points.map((p) => p.voxel) };
      if (this.points.some((p) => !p.positive)) prompts.point_labels = { [key]: this.points.map((p) => (p.positive ? 1 : 0)) };
    }
    return { prompts };
  }

  /** One line saying what a run will ask for. */
  summary(): string {
    const names = [...this.classes].sort((a, b) => a - b).map((c) => this.#info?.labels[String(c)] ?? String(c));
    const parts: string[] = [];
    if (names.length > 0) parts.push(names.join(', '));
    if (this.points.length > 0) parts.push(`"${this.pointObject()}" from ${this.points.length} point${this.points.length === 1 ? '' : 's'}`);
    return parts.length > 0 ? parts.join(' + ') : 'everything the engine can segment';
  }

  #indexOf(name: string): number | undefined {
    const lower = name.toLowerCase();
    const found = Object.entries(this.#info?.labels ?? {}).find(([, n]) => n.toLowerCase() === lower);
    return found ? Number(found[0]) : /^\d+$/.test(name) ? Number(name) : undefined;
  }

  #memberExample(group: number): string {
    const first = LABEL_GROUPS.get(group)?.[0];
    return first === undefined ? 'a member' : (this.#info?.labels[String(first)] ?? String(first));
  }

  #changed(): void {
    this.#renderPoints();
    this.#events.onPointsChange(this.points, this.mode);
  }

  #renderClasses(): void {
    const container = byId('class-list');
    const info = this.#info;
    if (!info) {
      container.replaceChildren(el('p', { class: 'muted' }, 'Loading the label list…'));
      return;
    }
    const search = byId<HTMLInputElement>('class-search').value;
    const sections = pickerEntries(info.labels, this.#supported, search);
    const engine = info.engine?.name ?? 'loaded';
    const nodes: Node[] = [];
    for (const [section, entries] of sections) {
      const selectable = entries.filter((e) => e.selectable).length;
      const items = entries.map((entry) => {
        const id = `class-${entry.index}`;
        const title = !entry.selectable
          ? `The ${engine} engine cannot segment ${entry.name} from a class prompt; click it with points instead.`
          : entry.members
            ? `Group: ${entry.members.join(', ')}`
            : `Label ${entry.index}`;
        const box = el('input', { type: 'checkbox', id, value: entry.index, disabled: !entry.selectable, checked: this.classes.has(entry.index) });
        box.addEventListener('change', () => {
          if (box.checked) this.classes.add(entry.index);
          else this.classes.delete(entry.index);
          this.#renderSelected();
        });
        return el(
          'label',
          { class: `class-item${entry.selectable ? '' : ' unsupported'}`, for: id, title, 'data-index': entry.index },
          box,
          el('span', { class: 'swatch', style: `background:${cssColor(labelColor(entry.index))}` }),
          el('span', { class: 'name' }, entry.name),
          entry.members ? el('span', { class: 'badge' }, 'group') : null,
        );
      });
      // Open the sections that have something to pick, and every section while searching.
      const open = search.trim() !== '' || selectable > 0;
      nodes.push(el('details', { class: 'class-section', open }, el('summary', {}, section, el('span', { class: 'count' }, `${selectable}/${entries.length}`)), ...items));
    }
    if (nodes.length === 0) nodes.push(el('p', { class: 'muted' }, `No label matches "${search}".`));
    container.replaceChildren(...nodes);
    this.#renderSelected();
  }

  #renderSelected(): void {
    const names = [...this.classes].sort((a, b) => a - b).map((c) => this.#info?.labels[String(c)] ?? String(c));
    byId('selected-classes').textContent = names.length > 0 ? names.join(', ') : 'none (with no points: everything the engine can segment)';
  }

  #renderPoints(): void {
    const list = byId('point-list');
    if (this.points.length === 0) {
      const hint = this.mode === 'navigate' ? 'Choose "+ inside" or "− outside", then click the image.' : 'Click a 2D view of the image to add a point.';
      list.replaceChildren(el('li', { class: 'muted' }, hint));
    } else {
      list.replaceChildren(
        ...this.points.map((point, n) =>
          el(
            'li',
            { class: point.positive ? 'positive' : 'negative' },
            el('button', { class: 'link', title: 'Show this point', onclick: () => this.#events.onPointFocus(point) }, `${point.positive ? '+' : '−'} (${point.voxel.join(', ')})`),
            el('button', {
              class: 'icon',
              title: 'Remove this point',
              'aria-label': 'Remove point',
              onclick: () => {
                this.points.splice(n, 1);
                this.#changed();
              },
            }, '×'),
          ),
        ),
      );
    }
    byId('points-count').textContent = String(this.points.length);
    byId('canvas-hint').textContent =
      this.mode === 'navigate' ? 'Click to move the crosshair · scroll to change slice · right-drag to adjust contrast' : `Click to add ${this.mode === 'positive' ? 'an inside (+)' : 'an outside (−)'} point for "${this.pointObject()}"`;
    document.body.dataset.clickMode = this.mode;
  }
}
