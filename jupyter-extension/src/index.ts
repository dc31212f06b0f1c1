/**
 * labsym-jupyter: the JupyterLab / Notebook 7 renderer of labsym's graph JSON and rewrite
 * history.  Declared safe (it builds its DOM from text only), ranked ahead of the SVG and HTML
 * that the same bundles carry for other front ends.
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { renderInto } from './render';
import { RewritesView } from './rewrites';
import { GRAPH_MIME, MIME_TYPES, REWRITES_MIME } from './schema';
import { GraphView } from './view';

export { GraphView } from './view';
export { RewritesView } from './rewrites';
export { renderInto } from './render';

/** Below the standard renderers' ranks (HTML 50, SVG 80, text 120): this one is preferred. */
export const RANK = 20;

export class LabsymRenderer extends Widget implements IRenderMime.IRenderer {
  private readonly mimeType: string;
  private view: GraphView | RewritesView | null = null;

  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this.mimeType = options.mimeType;
    this.addClass('labsym-output');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.view?.dispose();
    this.view = renderInto(this.node, this.mimeType, model.data as Record<string, unknown>);
    return Promise.resolve();
  }

  dispose(): void {
    this.view?.dispose();
    this.view = null;
    super.dispose();
  }
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: MIME_TYPES,
  defaultRank: RANK,
  createRenderer: options => new LabsymRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'labsym-jupyter:renderer',
  rendererFactory,
  rank: RANK,
  dataType: 'json'
};

export default extension;
export { GRAPH_MIME, REWRITES_MIME, MIME_TYPES };
