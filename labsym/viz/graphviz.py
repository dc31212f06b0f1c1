"""Graph drawings in Theano's pydotprint visual language: DOT text, SVG, and `pydotprint`.

The DOT text is a pure function of graph_json's data (same node ids), so drawings and the
notebook renderer agree. May import labsym.core, labsym.config, labsym.utils and labsym.viz.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

from labsym.config import config
from labsym.viz.collapse import collapse_chains
from labsym.viz.dot import FORMATS, RendererMissing, find_dot, render, warn_no_renderer
from labsym.viz.graphjson import SCHEMA_VERSION, graph_json

__all__ = [
    "RendererMissing",
    "default_colorCodes",
    "find_dot",
    "pydotprint",
    "render",
    "svg",
    "to_dot",
]

# Theano's pydotprint colours, matched as substrings of the op's class name (last match wins)
default_colorCodes = {  # noqa: N816 - Theano's name
    "GpuFromHost": "red",
    "HostFromGpu": "red",
    "Scan": "yellow",
    "Shape": "brown",
    "IfElse": "magenta",
    "Elemwise": "#FFAABB",  # dark pink
    "Subtensor": "#FFAAFF",  # purple
    "Alloc": "#FFAA22",  # orange
    "Output": "blue",
}
# kinds Theano left uncoloured, by graph_json category (used with the default colour codes)
CATEGORY_COLOURS = {
    "elemwise": "#FFAABB",
    "blas": "#99CCFF",
    "reduce": "#FFCC66",
    "shape": "#FFAAFF",
    "random": "#99DD99",
    "scan": "yellow",
    "opfromgraph": "gold",
}
VARIABLE_COLOURS = {"input": "green", "shared": "cyan", "constant": "lavender"}
# Theano's fills that black text cannot be read on
DARK_FILLS = ("blue", "brown")
# In a large graph (over LARGE_GRAPH apply nodes, or edges that skip over STRETCH_BUDGET ranks
# in all), a variable read more than MAX_SPAN ranks below where it is made is drawn again next
# to that reader (a dashed copy): dot's layout time grows much faster than its virtual nodes.
LARGE_GRAPH = 200
STRETCH_BUDGET = 400
MAX_SPAN = 3


def to_dot(
    obj: Any,
    *,
    compact: bool = True,
    with_ids: bool = False,
    high_contrast: bool = True,
    var_with_name_simple: bool = False,
    scan_graphs: bool = False,
    collapse: bool = False,
    heat: dict[str, float] | None = None,
    max_label_size: int = 70,
    colorCodes: dict[str, str] | None = None,  # noqa: N803 - Theano's name
) -> str:
    """The DOT text of a graph (anything graph_json takes, or a graph_json dict).

    Apply nodes are ellipses and variables boxes, as in Theano's pydotprint: inputs green,
    shared variables cyan, constants lavender, outputs blue, unused results grey; an update is
    a dashed blue "UPDATE" edge from the new value back to its shared variable. `compact` drops
    unnamed intermediate variables (their type and shape label the edge), `scan_graphs` draws
    scan/OpFromGraph inner graphs as dashed clusters, `collapse` draws repeated chains of ops as
    one "×N" node (see `labsym.viz.collapse`), `heat` maps node ids to a time share 0..1 (white
    to red fill). In large graphs (see LARGE_GRAPH), far-away inputs are drawn again (dashed)
    next to their readers and edges are straight, which keeps dot's layout time near linear.

    Examples
    --------
    >>> import labsym.tensor as T
    >>> text = to_dot(T.dvector("x").sum())
    >>> '"a0" [label="Sum{acc_dtype=float64}" shape="ellipse" style="filled"' in text
    True
    """
    doc = obj if _is_graph_doc(obj) else graph_json(obj)
    if collapse:
        doc = collapse_chains(doc)
    style = _Style(
        compact, with_ids, high_contrast, var_with_name_simple, max_label_size, colorCodes, heat
    )
    lines = ["digraph G {", "  graph [compound=true];"]
    if doc.get("title"):
        lines.append(f"  graph [label={_q(doc['title'])} labelloc=t];")
    _draw(doc, style, lines, "  ", scan_graphs)
    lines.append("}")
    return "\n".join(lines) + "\n"


def svg(obj: Any, **to_dot_options: Any) -> str | None:
    """The SVG drawing of a graph, or None (with a warning) when it cannot be drawn.

    Displays call this, so a missing renderer (one notice per session) or a failed or too slow
    layout (a warning saying why) gives None and the caller shows text instead of a traceback.
    """
    dot_text = to_dot(obj, **to_dot_options)
    try:
        return render(dot_text, "svg").decode("utf-8")
    except RendererMissing:
        warn_no_renderer()
    except RuntimeError as err:
        warnings.warn(f"graph not drawn: {err}", stacklevel=2)
    return None


def pydotprint(
    fct: Any,
    outfile: str | None = None,
    compact: bool = True,
    format: str = "png",
    with_ids: bool = False,
    high_contrast: bool = True,
    cond_highlight: Any = None,
    colorCodes: dict[str, str] | None = None,  # noqa: N803 - Theano's name
    max_label_size: int = 70,
    scan_graphs: bool = False,
    var_with_name_simple: bool = False,
    print_output_file: bool = True,
    return_image: bool = False,
) -> bytes | None:
    """Draw a function's (or variables') graph to `outfile`, or return the image's bytes.

    Theano's `theano.printing.pydotprint`: `fct` is a compiled Function, a FunctionGraph, an
    Apply, a Variable or a list of Variables; `format` any dot output format ('png', 'svg',
    'pdf', ...) or 'dot' for the DOT text itself. The default outfile is Theano's:
    `<compiledir>/theano.pydotprint.<device>.<format>`. With `scan_graphs`, each scan or
    OpFromGraph inner graph is drawn to its own file, `<outfile>_<name>_<toposort index>.<format>`.
    `cond_highlight` (clusters around IfElse branches) is accepted and not drawn. Without a dot
    renderer it warns once and writes (or returns) the DOT text instead of the image.

    Examples
    --------
    >>> import labsym.tensor as T
    >>> x = T.dvector("x")
    >>> pydotprint(x * 2, format="dot", return_image=True)[:11]
    b'digraph G {'
    """
    if cond_highlight is not None:
        warnings.warn("pydotprint: cond_highlight is not drawn by labsym", stacklevel=2)
    if format not in FORMATS:
        raise ValueError(f"unknown graph format {format!r}; expected one of {', '.join(FORMATS)}")

    def draw(graph: dict) -> str:
        return to_dot(
            graph,
            compact=compact,
            with_ids=with_ids,
            high_contrast=high_contrast,
            var_with_name_simple=var_with_name_simple,
            max_label_size=max_label_size,
            colorCodes=colorCodes,
        )

    doc = graph_json(fct)
    if return_image:
        return _image(draw(doc), format)[0]
    if outfile is None:
        outfile = os.path.join(config.compiledir, f"theano.pydotprint.{config.device}.{format}")
    if not outfile.endswith("." + format):
        outfile += "." + format
    if scan_graphs:
        _write_inner_graphs(doc, outfile[: -len(format) - 1], format, draw, print_output_file)
    _write(outfile, format, draw(doc), print_output_file)
    return None


def _image(dot_text: str, format: str) -> tuple[bytes, str]:
    """(bytes, format written): the rendered image, or the DOT text when no renderer exists."""
    if format == "dot":
        return dot_text.encode("utf-8"), "dot"
    try:
        return render(dot_text, format), format
    except RendererMissing:
        warn_no_renderer()
        return dot_text.encode("utf-8"), "dot"


def _write(outfile: str, format: str, dot_text: str, print_output_file: bool) -> None:
    """Write the image to `outfile` (the DOT text to `<outfile base>.dot` without a renderer)."""
    image, written_format = _image(dot_text, format)
    if written_format != format:
        outfile = outfile[: -len(format)] + written_format
    os.makedirs(os.path.dirname(os.path.abspath(outfile)), exist_ok=True)
    with open(outfile, "wb") as stream:
        stream.write(image)
    if print_output_file:
        print("The output file is available at", outfile)


def _write_inner_graphs(
    doc: dict, base: str, format: str, draw: Callable[[dict], str], print_output_file: bool
) -> None:
    """Each scan/OpFromGraph inner graph to `<base>_<name>_<toposort index>.<format>` (Theano's)."""
    applies = {row["id"]: row for row in doc["nodes"]}
    for cluster in doc["clusters"]:
        index = applies[cluster["apply"]]["index"]
        inner = {key: value for key, value in cluster.items() if key not in ("id", "apply", "kind")}
        inner.update(schema="labsym.graph", version=SCHEMA_VERSION, title=None, profile=None)
        target = f"{base}_{cluster['name'] or 'scan_fn'}_{index}"
        _write_inner_graphs(inner, target, format, draw, print_output_file)
        _write(f"{target}.{format}", format, draw(inner), print_output_file)


def _is_graph_doc(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("schema") == "labsym.graph"


class _Style:
    """The drawing options, and the label rules of Theano's pydotprint."""

    def __init__(
        self,
        compact: bool,
        with_ids: bool,
        high_contrast: bool,
        simple: bool,
        max_label_size: int,
        codes: dict[str, str] | None,
        heat: dict[str, float] | None,
    ) -> None:
        self.compact = compact
        self.with_ids = with_ids
        self.high_contrast = high_contrast
        self.simple = simple
        self.max_size = max_label_size
        self.codes = default_colorCodes if codes is None else codes
        self.use_categories = codes is None
        self.heat = heat or {}

    def cut(self, text: str, size: int | None = None) -> str:
        size = self.max_size if size is None else size
        return text if len(text) <= size else text[: max(size - 3, 0)] + "..."

    def colour_of_apply(self, row: dict) -> str | None:
        if row["id"] in self.heat:
            return _heat_colour(self.heat[row["id"]])
        colour = None
        for name, code in self.codes.items():
            if name in row["op_class"]:
                colour = code
        if colour is None and self.use_categories:
            colour = CATEGORY_COLOURS.get(row["category"])
        return colour


def _heat_colour(share: float) -> str:
    # 0 -> white, 1 -> pure red
    level = 255 - round(255 * min(max(float(share), 0.0), 1.0))
    return f"#FF{level:02X}{level:02X}"


def _draw(doc: dict, style: _Style, lines: list[str], indent: str, scan_graphs: bool) -> None:
    """Append the DOT statements of one graph (and, with scan_graphs, its clusters)."""
    drawing = _Drawing(doc, style, lines, indent)
    if drawing.large:
        # dot's defaults search long for few crossings; straight edges keep big graphs fast
        lines.append(f"{indent}graph [splines=line mclimit=0.01];")
    for row in doc["nodes"]:
        if row["kind"] == "apply":
            drawing.apply(row)
    graph = drawing.graph
    for var_id in doc["inputs"] + doc["outputs"]:
        # in a large graph an input read only far away is drawn only as copies
        if not (drawing.large and var_id not in drawing.drawn and graph.readers.get(var_id)):
            drawing.var_box(var_id)
    for shared_id, update_id in doc["updates"]:
        attrs = {"label": "UPDATE", "color": "blue", "style": "dashed", "constraint": "false"}
        edge = f"{_q(drawing.var_box(update_id))} -> {_q(drawing.var_box(shared_id))}"
        lines.append(f"{indent}{edge}{_attrs(attrs)};")
    if scan_graphs:
        for cluster in doc["clusters"]:
            _draw_cluster(cluster, style, lines, indent)


class _Drawing:
    """The statements of one graph: each variable box once, apply nodes with their edges."""

    def __init__(self, doc: dict, style: _Style, lines: list[str], indent: str) -> None:
        self.graph = _Topology(doc)
        self.style = style
        self.lines = lines
        self.indent = indent
        self.large = self.graph.n_applies > LARGE_GRAPH or self.graph.stretch > STRETCH_BUDGET
        self.update_of = {update: shared for shared, update in doc["updates"]}
        self.labels = _apply_labels(doc, style)
        self.drawn: set[str] = set()

    def emit(self, statement: str) -> None:
        self.lines.append(f"{self.indent}{statement};")

    def var_box(self, var_id: str) -> str:
        """Draw a variable's box (once); its id."""
        if var_id not in self.drawn:
            self.drawn.add(var_id)
            self.emit(_box(var_id, *self._look(var_id), self.style, self.graph.rows[var_id]))
        return var_id

    def stub(self, var_id: str, apply_id: str) -> str:
        """Draw a dashed copy of a far-away variable next to its reader; the copy's id."""
        stub_id = f"{var_id}@{apply_id}"
        row = self.graph.rows[var_id]
        self.emit(_box(stub_id, *self._look(var_id), self.style, row, dashed=True))
        return stub_id

    def _look(self, var_id: str) -> tuple[str, str | None]:
        graph, row = self.graph, self.graph.rows[var_id]
        if graph.shown(var_id, self.style.compact):
            label = _var_label(row, graph.rows, self.update_of, self.style)
        else:
            label = f"from {self.labels[graph.producer[var_id]]}\n{_type_text(row)}"
        colour = _var_colour(row, self.update_of, var_id in graph.outputs, graph.readers)
        return label, colour

    def apply(self, row: dict) -> None:
        """Draw an apply node, the edges from its inputs and to its shown outputs."""
        graph, apply_id = self.graph, row["id"]
        self.emit(_apply_statement(row, self.labels[apply_id], self.style))
        in_edges = graph.ins.get(apply_id, [])
        for edge in in_edges:
            attrs = _input_edge_attrs(row, edge, len(in_edges))
            source = edge["source"]
            if self.large and graph.span(source, apply_id) > MAX_SPAN:
                source = self.stub(source, apply_id)
            elif graph.shown(source, self.style.compact):
                source = self.var_box(source)
            else:
                # an unnamed intermediate: no box, its type and shape label the edge
                text = _type_text(graph.rows[source])
                label = f"{attrs['label']} {text}" if "label" in attrs else text
                attrs["label"] = self.style.cut(label)
                source = graph.producer[source]
            self.emit(f"{_q(source)} -> {_q(apply_id)}{_attrs(attrs)}")
        out_edges = graph.outs.get(apply_id, [])
        for edge in out_edges:
            if graph.shown(edge["target"], self.style.compact):
                attrs = {"label": str(edge["position"])} if len(out_edges) > 1 else {}
                self.emit(f"{_q(apply_id)} -> {_q(self.var_box(edge['target']))}{_attrs(attrs)}")


class _Topology:
    """Who reads and produces each variable, and each node's depth (its rank in a drawing)."""

    def __init__(self, doc: dict) -> None:
        self.rows = {row["id"]: row for row in doc["nodes"]}
        self.outputs = set(doc["outputs"])
        self.updated = {update for _, update in doc["updates"]}
        self.ins: dict[str, list[dict]] = {}
        self.outs: dict[str, list[dict]] = {}
        self.readers: dict[str, int] = {}
        self.producer: dict[str, str] = {}
        for edge in doc["edges"]:
            if edge["kind"] != "data":
                continue
            if self.rows[edge["source"]]["kind"] == "variable":
                self.ins.setdefault(edge["target"], []).append(edge)
                self.readers[edge["source"]] = self.readers.get(edge["source"], 0) + 1
            else:
                self.outs.setdefault(edge["source"], []).append(edge)
                self.producer[edge["target"]] = edge["source"]
        self.depth: dict[str, int] = {}
        self.n_applies = 0
        for row in doc["nodes"]:
            if row["kind"] == "apply":
                self.n_applies += 1
                before = [self.depth.get(e["source"], 0) for e in self.ins.get(row["id"], [])]
                self.depth[row["id"]] = 1 + max(before, default=0)
                for edge in self.outs.get(row["id"], []):
                    self.depth[edge["target"]] = self.depth[row["id"]]
        # ranks that edges skip: dot lays a chain of virtual nodes along each of them
        self.stretch = sum(
            max(self.span(edge["source"], apply_id) - 1, 0)
            for apply_id, edges in self.ins.items()
            for edge in edges
        )

    def span(self, var_id: str, apply_id: str) -> int:
        """How many ranks an edge from `var_id` to its reader `apply_id` crosses."""
        return self.depth[apply_id] - self.depth.get(var_id, 0)

    def shown(self, var_id: str, compact: bool) -> bool:
        """Whether a variable gets a box (Theano's compact mode hides unnamed intermediates)."""
        return (
            not compact
            or var_id not in self.producer
            or var_id in self.outputs
            or var_id in self.updated
            or self.readers.get(var_id, 0) == 0
            or self.rows[var_id]["name"] is not None
        )


def _draw_cluster(cluster: dict, style: _Style, lines: list[str], indent: str) -> None:
    lines.append(f"{indent}subgraph {_q('cluster_' + cluster['id'])} {{")
    inner = indent + "  "
    lines.append(f"{inner}graph [label={_q(cluster['title'])} style=dashed];")
    _draw(cluster, style, lines, inner, True)
    lines.append(f"{indent}}}")
    first = next((row["id"] for row in cluster["nodes"]), None)
    if first is not None:
        attrs = {"style": "dotted", "arrowhead": "none", "lhead": "cluster_" + cluster["id"]}
        lines.append(f"{indent}{_q(cluster['apply'])} -> {_q(first)}{_attrs(attrs)};")


def _apply_labels(doc: dict, style: _Style) -> dict[str, str]:
    """Theano's apply labels: the op (':' -> '_'), its profile time, ' id=N' when repeated."""
    labels: dict[str, str] = {}
    seen: set[str] = set()
    for row in doc["nodes"]:
        if row["kind"] != "apply":
            continue
        text = row.get("label") or row["op"].replace(":", "_")
        if "time_s" in row:
            text += f"   ({row['time_s']:.3f}s,{row['percent']:.3f}%)"
        size = style.max_size
        if text in seen or style.with_ids:
            suffix = f" id={row['index']}"
            text = (
                text + suffix
                if len(text) + len(suffix) <= size
                else (text[: size - 3 - len(suffix)] + suffix + "...")
            )
        elif len(text) > size:
            # a cut label that repeats another gets ' id=2', ' id=3'... after its '...'
            text = style.cut(text)
            count = 1
            while text in seen:
                count += 1
                suffix = f" id={count}"
                text = text[: size - 3 - len(suffix)] + "..." + suffix
        seen.add(text)
        labels[row["id"]] = text
    return labels


def _apply_statement(row: dict, label: str, style: _Style) -> str:
    attrs: dict[str, str] = {"label": label, "shape": "ellipse"}
    colour = style.colour_of_apply(row)
    if colour is not None and style.high_contrast:
        attrs.update(style="filled", fillcolor=colour)
        if colour in DARK_FILLS:
            attrs["fontcolor"] = "white"
    elif colour is not None:
        attrs["color"] = colour
    if row.get("inplace"):
        attrs["peripheries"] = "2"  # an inplace op: a double border
    attrs["tooltip"] = _tooltip(row["op"], row.get("source"))
    return f"{_q(row['id'])}{_attrs(attrs)}"


def _var_colour(row: dict, update_of: dict, is_output: bool, readers: dict) -> str | None:
    if is_output or row["id"] in update_of:
        return "blue"
    if row["role"] in VARIABLE_COLOURS:
        return VARIABLE_COLOURS[row["role"]]
    if readers.get(row["id"], 0) == 0:
        return "grey"  # a result nothing uses
    return None


def _box(
    box_id: str, label: str, colour: str | None, style: _Style, row: dict, dashed: bool = False
) -> str:
    attrs: dict[str, str] = {"label": label, "shape": "box"}
    if colour is not None and style.high_contrast:
        attrs.update(style="filled,dashed" if dashed else "filled", fillcolor=colour)
        if colour in DARK_FILLS:
            attrs["fontcolor"] = "white"
    elif colour is not None:
        attrs["color"] = colour
    if dashed and not (colour is not None and style.high_contrast):
        attrs["style"] = "dashed"
    attrs["tooltip"] = _tooltip(row["type"], row.get("source"))
    return f"{_q(box_id)}{_attrs(attrs)}"


def _var_label(row: dict, rows: dict, update_of: dict, style: _Style) -> str:
    name = row["name"]
    if name is None and row["id"] in update_of:
        name = rows[update_of[row["id"]]]["name"]  # the shared variable it updates
    if name is not None and style.simple:
        return style.cut(name)
    if name is not None:
        text = f"name={name} {row['type']}"
    elif row["role"] == "constant":
        text = f"val={row.get('value', '')} {row['type']}"
    else:
        text = row["type"]
    return style.cut(text) + "\n" + _shape_text(row)


def _type_text(row: dict) -> str:
    return f"{row['type']} {_shape_text(row)}"


def _shape_text(row: dict) -> str:
    shape = row.get("shape")
    if shape is None:
        return "shape=?"
    dims = ", ".join("?" if d is None else str(d) for d in shape)
    return f"shape=({dims}{',' if len(shape) == 1 else ''})"


def _input_edge_attrs(row: dict, edge: dict, n_inputs: int) -> dict[str, str]:
    attrs: dict[str, str] = {}
    if n_inputs > 1 and edge["position"] is not None:
        attrs["label"] = str(edge["position"])
    # Theano's edge colours: an input the op returns a view of is blue, one it destroys red
    if edge["position"] in row.get("views", ()):
        attrs["color"] = "blue"
    elif edge["position"] in row.get("destroys", ()):
        attrs["color"] = "red"
    return attrs


def _tooltip(head: str, source: str | None) -> str:
    return head if source is None else f"{head}\ncreated at {source}"


def _attrs(attrs: dict[str, str]) -> str:
    if not attrs:
        return ""
    return " [" + " ".join(f"{key}={_q(value)}" for key, value in attrs.items()) + "]"


def _q(text: str) -> str:
    """`text` as a DOT quoted string that shows it literally (\\N, \\l... stay text)."""
    out = str(text).replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    out = "".join(ch if ch >= " " else " " for ch in out)
    return f'"{out}"'
