/**
 * The renderer on bundles of real labsym objects, written by test/make_fixtures.py into
 * $LABSYM_FIXTURES (.ci/check-extension sets it; without it these tests are skipped).
 */

import { readFileSync, readdirSync } from 'fs';
import { join } from 'path';
import { describe, expect, it } from 'vitest';

import { renderInto } from '../src/render';
import { GRAPH_MIME, GraphBody, GraphDoc, REWRITES_MIME } from '../src/schema';
import { GraphView } from '../src/view';

const folder = process.env.LABSYM_FIXTURES;
const HOSTILE = '<img src=x onerror=alert(1)>';

function load(name: string): { mime: string; bundle: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(folder!, `${name}.json`), 'utf8'));
}

function applyCount(body: GraphBody): number {
  return body.nodes.filter(n => n.kind === 'apply').length;
}

describe.skipIf(!folder)('real labsym bundles', () => {
  it('are all drawn, with one box per apply node and no markup from the data', () => {
    const names = readdirSync(folder!).filter(f => f.endsWith('.json'));
    expect(names.length).toBe(7);
    for (const file of names) {
      const { mime, bundle } = load(file.replace('.json', ''));
      const host = document.createElement('div');
      renderInto(host, mime, bundle);
      expect(host.querySelector('.labsym-error'), file).toBeNull();
      expect(host.querySelector('img, script')).toBeNull();
      if (mime === GRAPH_MIME) {
        const doc = bundle[mime] as GraphDoc;
        const view = host.querySelector('.labsym-graph')!;
        expect(view.getAttribute('data-apply-count')).toBe(String(applyCount(doc)));
        expect(view.querySelectorAll('g.labsym-node[data-kind=apply]').length).toBe(applyCount(doc));
      }
    }
  });

  it('shows the markup names as text', () => {
    const { mime, bundle } = load('variable');
    const host = document.createElement('div');
    renderInto(host, mime, bundle);
    const labels = Array.from(host.querySelectorAll('.labsym-label')).map(l => l.textContent);
    expect(labels).toContain(HOSTILE);
  });

  it('draws the update of a shared variable as an update edge', () => {
    const { bundle } = load('function');
    const doc = bundle[GRAPH_MIME] as GraphDoc;
    const view = new GraphView(doc);
    const updates = view.node.querySelectorAll('g.labsym-edge-update');
    expect(updates.length).toBe(doc.updates.length);
    expect(doc.updates.length).toBe(1);
    expect(updates[0].getAttribute('data-target')).toBe(doc.updates[0][0]);
  });

  it('colours a profiled graph by time and shows the heat legend', () => {
    const { bundle } = load('profile');
    const doc = bundle[GRAPH_MIME] as GraphDoc;
    const view = new GraphView(doc);
    expect(view.node.querySelector('.labsym-legend[data-kind=profile]')).not.toBeNull();
    const heated = view.node.querySelectorAll('g.labsym-heat');
    expect(heated.length).toBe(applyCount(doc));
    const most = Math.max(...doc.nodes.map(n => (n.kind === 'apply' ? n.percent ?? 0 : 0)));
    expect(view.node.querySelector('.labsym-legend-max')!.textContent).toBe(`${most.toFixed(1)}%`);
  });

  it('expands and collapses scan and OpFromGraph inner graphs', () => {
    for (const name of ['scan', 'opfromgraph']) {
      const doc = load(name).bundle[GRAPH_MIME] as GraphDoc;
      expect(doc.clusters.length, name).toBe(1);
      const cluster = doc.clusters[0];
      const view = new GraphView(doc);
      const before = view.drawnIds.length;
      const toggle = view.node.querySelector(
        `g.labsym-node[data-node-id="${cluster.apply}"] .labsym-toggle`)!;
      toggle.dispatchEvent(new MouseEvent('click', { bubbles: true }));
      const box = view.node.querySelector(`g.labsym-expanded[data-cluster-id="${cluster.id}"]`)!;
      expect(box, name).not.toBeNull();
      expect(box.querySelectorAll('g.labsym-node[data-kind=apply]').length).toBe(
        applyCount(cluster));
      expect(view.drawnIds.length).toBeGreaterThan(before);
      view.toggle(cluster.apply);
      expect(view.drawnIds.length).toBe(before);
    }
  });

  it('search finds nodes inside collapsed inner graphs and Enter opens them', () => {
    const doc = load('scan').bundle[GRAPH_MIME] as GraphDoc;
    const outerOps = new Set(doc.nodes.map(n => (n.kind === 'apply' ? n.op : '')));
    const inner = doc.clusters[0].nodes.find(n => n.kind === 'apply' && !outerOps.has(n.op))!;
    const query = inner.kind === 'apply' ? inner.op : '';
    const view = new GraphView(doc);
    const search = view.node.querySelector<HTMLInputElement>('input.labsym-search')!;
    search.value = query;
    search.dispatchEvent(new Event('input'));
    const count = view.node.querySelector('.labsym-search-count')!;
    expect(count.textContent).toBe('0 found (+ matches in 1 collapsed inner graph: Enter expands)');
    search.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect(view.node.querySelector(`g.labsym-expanded[data-cluster-id="${doc.clusters[0].id}"]`))
      .not.toBeNull();
    expect(view.node.querySelector('g.labsym-current')!.getAttribute('data-node-id')).toBe(inner.id);
    expect(count.textContent).toMatch(/^1 of \d+$/);
  });

  it('steps through the rewrite history and colours what each step changed', () => {
    const { mime, bundle } = load('history');
    expect(mime).toBe(REWRITES_MIME);
    const host = document.createElement('div');
    renderInto(host, mime, bundle);
    const steps = (bundle[mime] as { steps: unknown[] }).steps.length;
    const root = host.querySelector('.labsym-rewrites')!;
    expect(root.getAttribute('data-step-count')).toBe(String(steps));
    let changed = 0;
    for (let i = 0; i < steps; i++) {
      expect(root.getAttribute('data-step')).toBe(String(i));
      if (root.querySelector('.labsym-diff-removed') && root.querySelector('.labsym-diff-added')) {
        changed++;
      }
      host.querySelector<HTMLButtonElement>('.labsym-step-next')!.click();
    }
    expect(root.getAttribute('data-step')).toBe(String(steps - 1));
    expect(changed).toBeGreaterThan(0);
  });

  it('lays out the 2000-node graph with the layered engine', () => {
    const doc = load('big').bundle[GRAPH_MIME] as GraphDoc;
    expect(applyCount(doc)).toBeGreaterThanOrEqual(2000);
    const view = new GraphView(doc);
    expect(view.node.getAttribute('data-engine')).toBe('layered');
  });
});
