"use strict";(self.rspackChunklabsym_jupyter=self.rspackChunklabsym_jupyter||[]).push([[0],{12(e,a,s){var t=s(13),l=s.n(t),o=s(14),r=(s.n(o))()(l());r.push([e.id,`/* labsym-jupyter: graph and rewrite-history views. Colours follow the JupyterLab theme where
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
  min-height: 120px;
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

.labsym-expanded > .labsym-cluster-box {
  fill-opacity: 0.35;
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
`,""]),s.d(a,{},{A:r})},14(e){e.exports=function(e){var a=[];return a.toString=function(){return this.map(function(a){var s="",t=void 0!==a[5];return a[4]&&(s+="@supports (".concat(a[4],") {")),a[2]&&(s+="@media ".concat(a[2]," {")),t&&(s+="@layer".concat(a[5].length>0?" ".concat(a[5]):""," {")),s+=e(a),t&&(s+="}"),a[2]&&(s+="}"),a[4]&&(s+="}"),s}).join("")},a.i=function(e,s,t,l,o){"string"==typeof e&&(e=[[null,e,void 0]]);var r={};if(t)for(var n=0;n<this.length;n++){var i=this[n][0];null!=i&&(r[i]=!0)}for(var c=0;c<e.length;c++){var b=[].concat(e[c]);t&&r[b[0]]||(void 0!==o&&(void 0===b[5]||(b[1]="@layer".concat(b[5].length>0?" ".concat(b[5]):""," {").concat(b[1],"}")),b[5]=o),s&&(b[2]&&(b[1]="@media ".concat(b[2]," {").concat(b[1],"}")),b[2]=s),l&&(b[4]?(b[1]="@supports (".concat(b[4],") {").concat(b[1],"}"),b[4]=l):b[4]="".concat(l)),a.push(b))}},a}},13(e){e.exports=function(e){return e[1]}},6(e){var a=[];function s(e){for(var s=-1,t=0;t<a.length;t++)if(a[t].identifier===e){s=t;break}return s}function t(e,t){for(var l={},o=[],r=0;r<e.length;r++){var n=e[r],i=t.base?n[0]+t.base:n[0],c=l[i]||0,b="".concat(i," ").concat(c);l[i]=c+1;var d=s(b),m={css:n[1],media:n[2],sourceMap:n[3],supports:n[4],layer:n[5]};if(-1!==d)a[d].references++,a[d].updater(m);else{var f=function(e,a){var s=a.domAPI(a);return s.update(e),function(a){a?(a.css!==e.css||a.media!==e.media||a.sourceMap!==e.sourceMap||a.supports!==e.supports||a.layer!==e.layer)&&s.update(e=a):s.remove()}}(m,t);t.byIndex=r,a.splice(r,0,{identifier:b,updater:f,references:1})}o.push(b)}return o}e.exports=function(e,l){var o=t(e=e||[],l=l||{});return function(e){e=e||[];for(var r=0;r<o.length;r++){var n=s(o[r]);a[n].references--}for(var i=t(e,l),c=0;c<o.length;c++){var b=s(o[c]);0===a[b].references&&(a[b].updater(),a.splice(b,1))}o=i}}},8(e){var a={};e.exports=function(e,s){var t=function(e){if(void 0===a[e]){var s=document.querySelector(e);if(window.HTMLIFrameElement&&s instanceof window.HTMLIFrameElement)try{s=s.contentDocument.head}catch(e){s=null}a[e]=s}return a[e]}(e);if(!t)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");t.appendChild(s)}},10(e){e.exports=function(e){var a=document.createElement("style");return e.setAttributes(a,e.attributes),e.insert(a,e.options),a}},9(e,a,s){e.exports=function(e){var a=s.nc;a&&e.setAttribute("nonce",a)}},7(e){e.exports=function(e){if("u"<typeof document)return{update:function(){},remove:function(){}};var a=e.insertStyleElement(e);return{update:function(s){var t,l,o;t="",s.supports&&(t+="@supports (".concat(s.supports,") {")),s.media&&(t+="@media ".concat(s.media," {")),(l=void 0!==s.layer)&&(t+="@layer".concat(s.layer.length>0?" ".concat(s.layer):""," {")),t+=s.css,l&&(t+="}"),s.media&&(t+="}"),s.supports&&(t+="}"),(o=s.sourceMap)&&"u">typeof btoa&&(t+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(o))))," */")),e.styleTagTransform(t,a,e.options)},remove:function(){var e;null===(e=a).parentNode||e.parentNode.removeChild(e)}}}},11(e){e.exports=function(e,a){if(a.styleSheet)a.styleSheet.cssText=e;else{for(;a.firstChild;)a.removeChild(a.firstChild);a.appendChild(document.createTextNode(e))}}},5(e,a,s){var t=s(6),l=s.n(t),o=s(7),r=s.n(o),n=s(8),i=s.n(n),c=s(9),b=s.n(c),d=s(10),m=s.n(d),f=s(11),p=s.n(f),y=s(12),h={};h.styleTagTransform=p(),h.setAttributes=b(),h.insert=i().bind(null,"head"),h.domAPI=r(),h.insertStyleElement=m(),l()(y.A,h),y.A&&y.A.locals&&y.A.locals}}]);