/**
 * The only way this extension makes DOM: elements by name, attributes by setAttribute, text by
 * textContent.  Kernel strings therefore never reach an HTML or SVG parser (the renderer is
 * declared safe and also draws untrusted outputs).
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

type Attrs = Record<string, string | number>;

function apply<T extends Element>(element: T, attrs: Attrs, text?: string): T {
  for (const [key, value] of Object.entries(attrs)) {
    element.setAttribute(key, String(value));
  }
  if (text !== undefined) {
    element.textContent = text;
  }
  return element;
}

/** An HTML element with attributes and (plain) text. */
export function html<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  text?: string
): HTMLElementTagNameMap[K] {
  return apply(document.createElement(tag), attrs, text);
}

/** An SVG element with attributes and (plain) text. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  text?: string
): SVGElementTagNameMap[K] {
  return apply(document.createElementNS(SVG_NS, tag), attrs, text);
}

/** Remove every child of `element`. */
export function clear(element: Element): void {
  while (element.firstChild) {
    element.removeChild(element.firstChild);
  }
}

/** A table of [key, value] text rows (tooltips, summaries). */
export function keyValueTable(rows: Array<[string, string]>, className: string): HTMLElement {
  const table = html('table', { class: className });
  for (const [key, value] of rows) {
    const tr = table.appendChild(html('tr'));
    tr.appendChild(html('th', {}, key));
    tr.appendChild(html('td', {}, value));
  }
  return table;
}
