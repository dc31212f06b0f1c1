/**
 * Colours and legends: apply nodes by op category, variables by role, profiled nodes by their
 * share of the time (a heat scale), rewrite steps by added / removed nodes.
 */

import { html } from './dom';
import { GraphDoc } from './schema';

export const CATEGORY_NAMES: Record<string, string> = {
  elemwise: 'elementwise',
  blas: 'BLAS (dot, gemm)',
  reduce: 'reduction',
  shape: 'shape / view',
  random: 'random',
  scan: 'scan',
  opfromgraph: 'OpFromGraph',
  other: 'other op'
};

export const ROLE_NAMES: Record<string, string> = {
  input: 'input',
  output: 'output',
  shared: 'shared variable',
  constant: 'constant',
  intermediate: 'intermediate'
};

const COLD = [255, 245, 235];
const HOT = [217, 72, 1];

/** The heat colour of a share `fraction` (0..1) of the slowest node's time, as `rgb(...)`. */
export function heatColour(fraction: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const channel = (i: number): number => Math.round(COLD[i] + (HOT[i] - COLD[i]) * f);
  return `rgb(${channel(0)}, ${channel(1)}, ${channel(2)})`;
}

/** The largest `percent` of any apply node (0 when none is profiled). */
export function maxPercent(doc: GraphDoc): number {
  let most = 0;
  for (const node of doc.nodes) {
    if (node.kind === 'apply' && typeof node.percent === 'number') {
      most = Math.max(most, node.percent);
    }
  }
  return most;
}

function swatch(className: string, label: string, key: string): HTMLElement {
  const item = html('span', { class: 'labsym-legend-item', 'data-key': key });
  item.appendChild(html('span', { class: `labsym-swatch ${className}` }));
  item.appendChild(html('span', { class: 'labsym-legend-label' }, label));
  return item;
}

/** Swatches for the categories and roles that occur in `doc`. */
export function categoryLegend(doc: GraphDoc): HTMLElement {
  const legend = html('div', { class: 'labsym-legend', 'data-kind': 'category' });
  const categories = new Set<string>();
  const roles = new Set<string>();
  for (const node of doc.nodes) {
    if (node.kind === 'apply') {
      categories.add(CATEGORY_NAMES[node.category] ? node.category : 'other');
    } else {
      roles.add(ROLE_NAMES[node.role] ? node.role : 'intermediate');
    }
  }
  for (const key of Object.keys(CATEGORY_NAMES).filter(k => categories.has(k))) {
    legend.appendChild(swatch(`labsym-cat-${key}`, CATEGORY_NAMES[key], key));
  }
  for (const key of Object.keys(ROLE_NAMES).filter(k => roles.has(k))) {
    legend.appendChild(swatch(`labsym-role-${key}`, ROLE_NAMES[key], key));
  }
  return legend;
}

/** The heat scale (0 to the slowest node's share) and the profile's totals. */
export function profileLegend(doc: GraphDoc): HTMLElement {
  const legend = html('div', { class: 'labsym-legend', 'data-kind': 'profile' });
  const most = maxPercent(doc);
  legend.appendChild(html('span', { class: 'labsym-legend-label' }, 'share of call time:'));
  legend.appendChild(html('span', { class: 'labsym-legend-min' }, '0%'));
  const bar = legend.appendChild(html('span', { class: 'labsym-heat-bar' }));
  bar.style.background = `linear-gradient(to right, ${heatColour(0)}, ${heatColour(1)})`;
  legend.appendChild(html('span', { class: 'labsym-legend-max' }, `${most.toFixed(1)}%`));
  const p = doc.profile;
  if (p) {
    const totals = `${p.name ? p.name + ': ' : ''}${p.call_count} calls, ` +
      `${p.call_time_s.toPrecision(3)} s in calls, ${p.node_time_s.toPrecision(3)} s in nodes`;
    legend.appendChild(html('span', { class: 'labsym-legend-totals' }, totals));
  }
  return legend;
}

/** The added / removed / kept swatches of a rewrite step. */
export function diffLegend(): HTMLElement {
  const legend = html('div', { class: 'labsym-legend', 'data-kind': 'diff' });
  legend.appendChild(swatch('labsym-diff-removed', 'removed by the rewrite', 'removed'));
  legend.appendChild(swatch('labsym-diff-added', 'added by the rewrite', 'added'));
  legend.appendChild(swatch('labsym-diff-kept', 'kept', 'kept'));
  return legend;
}
