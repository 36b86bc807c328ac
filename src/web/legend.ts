/**
 * The result legend: one row per label in the returned label map (colour, name, volume in mL),
 * each with a visibility toggle.
 * @module
 */
import { cssColor } from './colors.js';
import { byId, el } from './dom.js';
import type { LegendEntry } from './label-stats.js';
import { formatMl } from './label-stats.js';

export function renderLegend(entries: readonly LegendEntry[], hidden: ReadonlySet<number>, notComputed: number, onToggle: (index: number, visible: boolean) => void): void {
  const body = byId('legend-rows');
  if (entries.length === 0) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'The engine found nothing for these prompts.')));
  } else {
    body.replaceChildren(
      ...entries.map((entry) => {
        const box = el('input', { type: 'checkbox', checked: !hidden.has(entry.index), 'aria-label': `Show ${entry.name}` });
        box.addEventListener('change', () => onToggle(entry.index, box.checked));
        return el(
          'tr',
          { 'data-label': entry.index, 'data-voxels': entry.voxels },
          el('td', {}, box),
          el('td', {}, el('span', { class: 'swatch', style: `background:${cssColor(entry.rgb)}` })),
          el('td', { class: 'name', title: `label ${entry.index}` }, entry.name),
          el('td', { class: 'num', title: `${entry.voxels.toLocaleString('en')} voxels` }, formatMl(entry.ml)),
        );
      }),
    );
  }
  byId('legend-note').textContent = notComputed > 0 ? `${notComputed.toLocaleString('en')} voxels were not computed (label 255, shown grey): outside the region the engine looked at.` : '';
}
