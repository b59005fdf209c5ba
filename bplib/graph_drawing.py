"""Draw a computational graph of :class:`bplib.autograd.Value` nodes as SVG (no graphviz needed).

Inputs are on the left, the output on the right. Each value is a box ``label | data | grad``; each
operation is a circle between a value and the values it was computed from. Jupyter shows the
returned :class:`GraphDrawing` inline; ``.save("graph.svg")`` writes it to a file.
"""

from html import escape

from bplib.autograd import topological_order

__all__ = ["GraphDrawing", "draw_graph"]

_BOX_W, _BOX_H, _OP_R, _COL_W, _ROW_H, _PAD = 210, 34, 15, 130, 52, 14


class GraphDrawing:
    """An SVG picture of a graph; displayed inline by Jupyter."""

    def __init__(self, svg):
        self.svg = svg

    def _repr_svg_(self):
        return self.svg

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.svg)


def draw_graph(root, show_grad=True, digits=4):
    """Lay out every node ``root`` depends on in columns by depth and return a :class:`GraphDrawing`.

    ``show_grad=False`` hides the gradients (e.g. before calling ``backward``).
    """
    nodes = topological_order(root)
    # Column of a value = longest path from an input; its op circle sits one column to its left.
    column = {}
    for node in nodes:  # children come before parents in topological order
        column[id(node)] = max((column[id(c)] + 2 for c in node.children), default=0)
    items = [(node, column[id(node)], "value") for node in nodes]
    items += [(node, column[id(node)] - 1, "op") for node in nodes if node.op]

    by_column = {}
    for item in items:
        by_column.setdefault(item[1], []).append(item)
    position = {}
    for col in sorted(by_column):  # order each column by the mean row of what feeds it
        def feed_row(item):
            node, _, kind = item
            sources = [position[(id(node), "op")]] if kind == "value" and node.op else []
            if kind == "op":
                sources = [position[(id(c), "value")] for c in node.children]
            return sum(y for _, y in sources) / len(sources) if sources else 0.0
        for row, item in enumerate(sorted(by_column[col], key=feed_row)):
            position[(id(item[0]), item[2])] = (col, row)

    max_rows = max(len(v) for v in by_column.values())
    n_cols = max(by_column) + 1

    def xy(key):
        col, row = position[key]
        rows_here = len(by_column[col])
        x = _PAD + (col // 2) * (_BOX_W + _COL_W) + (col % 2) * (_BOX_W + _COL_W / 2)
        y = _PAD + (row + (max_rows - rows_here) / 2) * _ROW_H + _BOX_H / 2
        return x, y

    parts, bends = [], []
    for node in nodes:  # edges first, so boxes are drawn over their ends
        if not node.op:
            continue
        ox, oy = xy((id(node), "op"))
        seen = {}
        for child in node.children:
            copy = seen[id(child)] = seen.get(id(child), -1) + 1  # b = a + a: two arrows from a
            cx, cy = xy((id(child), "value"))
            skipped = column[id(node)] - column[id(child)] - 2  # value columns jumped over
            bend = 16 * copy * (1 if copy % 2 else -1) - 30 * max(skipped, 0) / 2
            bends.append(bend)
            parts.append(_arrow(cx + _BOX_W, cy, ox - _OP_R, oy, bend))
        vx, vy = xy((id(node), "value"))
        parts.append(_arrow(ox + _OP_R, oy, vx, vy))
    for node in nodes:
        x, y = xy((id(node), "value"))
        text = f"{escape(node.label) + ' | ' if node.label else ''}data {node.data:.{digits}g}"
        if show_grad:
            text += f" | grad {node.grad:.{digits}g}"
        parts.append(
            f'<rect x="{x:.1f}" y="{y - _BOX_H / 2:.1f}" width="{_BOX_W}" height="{_BOX_H}" rx="5" '
            f'fill="#eef4fb" stroke="#3b6ea5"/>'
            f'<text x="{x + _BOX_W / 2:.1f}" y="{y + 4:.1f}" text-anchor="middle">{text}</text>')
        if node.op:
            ox, oy = xy((id(node), "op"))
            parts.append(
                f'<circle cx="{ox:.1f}" cy="{oy:.1f}" r="{_OP_R}" fill="#fff3d6" stroke="#b07d12"/>'
                f'<text x="{ox:.1f}" y="{oy + 4:.1f}" text-anchor="middle">{escape(node.op)}</text>')

    width = _PAD * 2 + (n_cols // 2 + 1) * (_BOX_W + _COL_W)
    height = _PAD * 2 + max_rows * _ROW_H
    # A curve reaches 3/4 of its bend: make room above and below for the arcs.
    above = max([0.0] + [-0.75 * b for b in bends])
    below = max([0.0] + [0.75 * b for b in bends])
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
           f'height="{height + above + below:.0f}" font-family="monospace" font-size="12">'
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'
           f'<g transform="translate(0,{above:.1f})">' + "".join(parts) + "</g></svg>")
    return GraphDrawing(svg)


def _arrow(x1, y1, x2, y2, bend=0.0):
    """A curve with horizontal ends; ``bend`` lifts (negative) or lowers its middle, so repeated
    edges fan apart and edges that skip columns arc over the boxes in between."""
    half = (x2 - x1) / 2
    return (f'<path d="M{x1:.1f},{y1:.1f} C{x1 + half:.1f},{y1 + bend:.1f} {x2 - half:.1f},'
            f'{y2 + bend:.1f} {x2:.1f},{y2:.1f}" fill="none" stroke="#555" marker-end="url(#arrow)"/>')
