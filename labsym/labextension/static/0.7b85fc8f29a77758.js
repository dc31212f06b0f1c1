"use strict";(self.rspackChunklabsym_jupyter=self.rspackChunklabsym_jupyter||[]).push([[0],{12(e,a,t){var s=t(13),l=t.n(s),o=t(14),r=(t.n(o))()(l());r.push([e.id,`/* labsym-jupyter: graph and rewrite-history views. Colours follow the JupyterLab theme where
   it defines them; node fills are light in every theme so that dark label text stays legible. */

.labsym-graph,
.labsym-rewrites {
  font-family: var(--jp-ui-font-family, sans-serif);
  font-size: 12px;
  color: var(--jp-ui-font-color1, #222);
}

.labsym-toolbar {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 6px;
  padding: 2px 0 4px;
}

.labsym-title {
  font-weight: 600;
}

.labsym-search {
  width: 14em;
  font-size: 12px;
}

.labsym-toolbar button {
  font-size: 12px;
  min-width: 2em;
  cursor: pointer;
}

.labsym-status,
.labsym-search-count,
.labsym-step-position {
  color: var(--jp-ui-font-color2, #666);
}

.labsym-canvas {
  position: relative;
  overflow: hidden;
  border: 1px solid var(--jp-border-color2, #ddd);
  background: var(--jp-layout-color0, #fff);
  cursor: grab;
  min-height: 200px;
}

.labsym-svg {
  display: block;
  width: 100%;
  height: 100%;
  user-select: none;
}

.labsym-node {
  cursor: pointer;
}

.labsym-shape {
  fill: #eef1f5;
  stroke: #6b7785;
  stroke-width: 1;
}

.labsym-label {
  font-family: var(--jp-code-font-family, monospace);
  font-size: 11px;
  fill: #1b1f24;
  pointer-events: none;
}

.labsym-cat-elemwise > .labsym-shape { fill: #dbeafe; }
.labsym-cat-blas > .labsym-shape { fill: #fde2c8; }
.labsym-cat-reduce > .labsym-shape { fill: #e9d5ff; }
.labsym-cat-shape > .labsym-shape { fill: #e5e7eb; }
.labsym-cat-random > .labsym-shape { fill: #fef9c3; }
.labsym-cat-scan > .labsym-shape { fill: #ccfbf1; }
.labsym-cat-opfromgraph > .labsym-shape { fill: #fce7f3; }
.labsym-cat-other > .labsym-shape { fill: #f3f4f6; }
.labsym-role-input > .labsym-shape { fill: #dcfce7; }
.labsym-role-output > .labsym-shape { fill: #bfdbfe; stroke-width: 2; }
.labsym-role-shared > .labsym-shape { fill: #fef3c7; }
.labsym-role-constant > .labsym-shape { fill: #f5f5f4; stroke-dasharray: 3 2; }
.labsym-role-intermediate > .labsym-shape { fill: #ffffff; }

/* after the category fills: a pale box in every theme, so its dark title stays legible */
.labsym-node.labsym-expanded > .labsym-cluster-box {
  fill: #f6fbfb;
  stroke-dasharray: 5 3;
}

.labsym-cluster-title {
  font-weight: 600;
}

.labsym-toggle {
  font-family: var(--jp-code-font-family, monospace);
  font-size: 14px;
  font-weight: 700;
  fill: #0f5d8c;
  cursor: pointer;
}

.labsym-edge-line {
  fill: none;
  stroke: #8a94a0;
  stroke-width: 1.2;
}

.labsym-edge-update > .labsym-edge-line {
  stroke: #b45309;
  stroke-dasharray: 5 3;
}

.labsym-edge-hit {
  fill: none;
  stroke: transparent;
  stroke-width: 8;
  pointer-events: stroke;
}

.labsym-arrow {
  fill: #8a94a0;
}

/* selection: the chosen node, its ancestors and descendants; everything else fades */
.labsym-has-selection .labsym-node,
.labsym-has-selection .labsym-edge {
  opacity: 0.25;
}

.labsym-has-selection .labsym-node.labsym-selected,
.labsym-has-selection .labsym-node.labsym-ancestor,
.labsym-has-selection .labsym-node.labsym-descendant,
.labsym-has-selection .labsym-node.labsym-expanded,
.labsym-has-selection .labsym-edge.labsym-path {
  opacity: 1;
}

.labsym-selected > .labsym-shape { stroke: #111; stroke-width: 3; }
.labsym-ancestor > .labsym-shape { stroke: #2563eb; stroke-width: 2.5; }
.labsym-descendant > .labsym-shape { stroke: #c2410c; stroke-width: 2.5; }
.labsym-path > .labsym-edge-line { stroke: #333; stroke-width: 2; }

.labsym-match > .labsym-shape { stroke: #d946ef; stroke-width: 3; }
.labsym-current > .labsym-shape { stroke: #a21caf; stroke-width: 5; }

/* rewrite steps */
.labsym-diff-removed > .labsym-shape { fill: #fecaca; stroke: #b91c1c; stroke-width: 2; }
.labsym-diff-added > .labsym-shape { fill: #bbf7d0; stroke: #15803d; stroke-width: 2; }
.labsym-diff-removed > .labsym-edge-line { stroke: #b91c1c; }
.labsym-diff-added > .labsym-edge-line { stroke: #15803d; }

.labsym-tooltip {
  position: absolute;
  z-index: 10;
  max-width: 340px;
  padding: 4px 6px;
  pointer-events: none;
  background: var(--jp-layout-color1, #fff);
  border: 1px solid var(--jp-border-color1, #999);
  box-shadow: 0 2px 6px rgba(0, 0, 0, 0.2);
  font-size: 11px;
}

.labsym-tooltip-table th {
  text-align: left;
  padding-right: 6px;
  vertical-align: top;
  color: var(--jp-ui-font-color2, #555);
  font-weight: 400;
  white-space: nowrap;
}

.labsym-tooltip-table td {
  font-family: var(--jp-code-font-family, monospace);
  word-break: break-all;
}

.labsym-legend {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 4px 12px;
  padding: 4px 0;
  font-size: 11px;
}

.labsym-legend-item {
  display: inline-flex;
  align-items: center;
  gap: 4px;
}

.labsym-swatch {
  display: inline-block;
  width: 14px;
  height: 10px;
  border: 1px solid #6b7785;
}

.labsym-swatch.labsym-cat-elemwise { background: #dbeafe; }
.labsym-swatch.labsym-cat-blas { background: #fde2c8; }
.labsym-swatch.labsym-cat-reduce { background: #e9d5ff; }
.labsym-swatch.labsym-cat-shape { background: #e5e7eb; }
.labsym-swatch.labsym-cat-random { background: #fef9c3; }
.labsym-swatch.labsym-cat-scan { background: #ccfbf1; }
.labsym-swatch.labsym-cat-opfromgraph { background: #fce7f3; }
.labsym-swatch.labsym-cat-other { background: #f3f4f6; }
.labsym-swatch.labsym-role-input { background: #dcfce7; }
.labsym-swatch.labsym-role-output { background: #bfdbfe; }
.labsym-swatch.labsym-role-shared { background: #fef3c7; }
.labsym-swatch.labsym-role-constant { background: #f5f5f4; }
.labsym-swatch.labsym-role-intermediate { background: #fff; }
.labsym-swatch.labsym-diff-removed { background: #fecaca; }
.labsym-swatch.labsym-diff-added { background: #bbf7d0; }
.labsym-swatch.labsym-diff-kept { background: #eef1f5; }

.labsym-heat-bar {
  display: inline-block;
  width: 120px;
  height: 10px;
  border: 1px solid #6b7785;
}

.labsym-legend-totals {
  color: var(--jp-ui-font-color2, #666);
}

.labsym-text summary {
  cursor: pointer;
  color: var(--jp-ui-font-color2, #666);
}

.labsym-step-info > div {
  margin: 1px 0;
}

.labsym-step-key {
  display: inline-block;
  min-width: 4em;
  color: var(--jp-ui-font-color2, #666);
}

.labsym-step-panes {
  display: flex;
  gap: 8px;
}

.labsym-step-pane {
  flex: 1 1 0;
  min-width: 0;
}

.labsym-error {
  color: var(--jp-error-color1, #b91c1c);
}
`,""]),t.d(a,{},{A:r})},14(e){e.exports=function(e){var a=[];return a.toString=function(){return this.map(function(a){var t="",s=void 0!==a[5];return a[4]&&(t+="@supports (".concat(a[4],") {")),a[2]&&(t+="@media ".concat(a[2]," {")),s&&(t+="@layer".concat(a[5].length>0?" ".concat(a[5]):""," {")),t+=e(a),s&&(t+="}"),a[2]&&(t+="}"),a[4]&&(t+="}"),t}).join("")},a.i=function(e,t,s,l,o){"string"==typeof e&&(e=[[null,e,void 0]]);var r={};if(s)for(var n=0;n<this.length;n++){var i=this[n][0];null!=i&&(r[i]=!0)}for(var c=0;c<e.length;c++){var b=[].concat(e[c]);s&&r[b[0]]||(void 0!==o&&(void 0===b[5]||(b[1]="@layer".concat(b[5].length>0?" ".concat(b[5]):""," {").concat(b[1],"}")),b[5]=o),t&&(b[2]&&(b[1]="@media ".concat(b[2]," {").concat(b[1],"}")),b[2]=t),l&&(b[4]?(b[1]="@supports (".concat(b[4],") {").concat(b[1],"}"),b[4]=l):b[4]="".concat(l)),a.push(b))}},a}},13(e){e.exports=function(e){return e[1]}},6(e){var a=[];function t(e){for(var t=-1,s=0;s<a.length;s++)if(a[s].identifier===e){t=s;break}return t}function s(e,s){for(var l={},o=[],r=0;r<e.length;r++){var n=e[r],i=s.base?n[0]+s.base:n[0],c=l[i]||0,b="".concat(i," ").concat(c);l[i]=c+1;var d=t(b),f={css:n[1],media:n[2],sourceMap:n[3],supports:n[4],layer:n[5]};if(-1!==d)a[d].references++,a[d].updater(f);else{var m=function(e,a){var t=a.domAPI(a);return t.update(e),function(a){a?(a.css!==e.css||a.media!==e.media||a.sourceMap!==e.sourceMap||a.supports!==e.supports||a.layer!==e.layer)&&t.update(e=a):t.remove()}}(f,s);s.byIndex=r,a.splice(r,0,{identifier:b,updater:m,references:1})}o.push(b)}return o}e.exports=function(e,l){var o=s(e=e||[],l=l||{});return function(e){e=e||[];for(var r=0;r<o.length;r++){var n=t(o[r]);a[n].references--}for(var i=s(e,l),c=0;c<o.length;c++){var b=t(o[c]);0===a[b].references&&(a[b].updater(),a.splice(b,1))}o=i}}},8(e){var a={};e.exports=function(e,t){var s=function(e){if(void 0===a[e]){var t=document.querySelector(e);if(window.HTMLIFrameElement&&t instanceof window.HTMLIFrameElement)try{t=t.contentDocument.head}catch(e){t=null}a[e]=t}return a[e]}(e);if(!s)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");s.appendChild(t)}},10(e){e.exports=function(e){var a=document.createElement("style");return e.setAttributes(a,e.attributes),e.insert(a,e.options),a}},9(e,a,t){e.exports=function(e){var a=t.nc;a&&e.setAttribute("nonce",a)}},7(e){e.exports=function(e){if("u"<typeof document)return{update:function(){},remove:function(){}};var a=e.insertStyleElement(e);return{update:function(t){var s,l,o;s="",t.supports&&(s+="@supports (".concat(t.supports,") {")),t.media&&(s+="@media ".concat(t.media," {")),(l=void 0!==t.layer)&&(s+="@layer".concat(t.layer.length>0?" ".concat(t.layer):""," {")),s+=t.css,l&&(s+="}"),t.media&&(s+="}"),t.supports&&(s+="}"),(o=t.sourceMap)&&"u">typeof btoa&&(s+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(o))))," */")),e.styleTagTransform(s,a,e.options)},remove:function(){var e;null===(e=a).parentNode||e.parentNode.removeChild(e)}}}},11(e){e.exports=function(e,a){if(a.styleSheet)a.styleSheet.cssText=e;else{for(;a.firstChild;)a.removeChild(a.firstChild);a.appendChild(document.createTextNode(e))}}},5(e,a,t){var s=t(6),l=t.n(s),o=t(7),r=t.n(o),n=t(8),i=t.n(n),c=t(9),b=t.n(c),d=t(10),f=t.n(d),m=t(11),p=t.n(m),y=t(12),h={};h.styleTagTransform=p(),h.setAttributes=b(),h.insert=i().bind(null,"head"),h.domAPI=r(),h.insertStyleElement=f(),l()(y.A,h),y.A&&y.A.locals&&y.A.locals}}]);