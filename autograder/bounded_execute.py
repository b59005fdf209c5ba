"""nbgrader's Execute with a bound on how much of a cell's output it keeps.

nbgrader's own LimitOutput counts lines, after the whole output is in memory, so one 100 MB line
was kept whole. Here nbclient's ``output`` hook drops whatever a cell prints past
:data:`MAX_CELL_OUTPUT_BYTES` (with one note saying so), while the cell goes on running.
"""

import json

import nbformat
from nbgrader.preprocessors import Execute

MAX_CELL_OUTPUT_BYTES = 1024 ** 2


class BoundedExecute(Execute):
    """Execute that keeps at most ``MAX_CELL_OUTPUT_BYTES`` of each cell's output messages."""

    def output(self, outs, msg, display_id, cell_index):
        sizes = self.__dict__.setdefault("_output_bytes", {})
        before = sizes.get(cell_index, 0)
        sizes[cell_index] = before + len(json.dumps(msg.get("content", {}), default=str))
        if sizes[cell_index] <= MAX_CELL_OUTPUT_BYTES:
            return super().output(outs, msg, display_id, cell_index)
        if before <= MAX_CELL_OUTPUT_BYTES:  # the first message over the bound: say so, once
            outs.append(nbformat.v4.new_output("stream", name="stdout", text=(
                f"\n[the grader kept the first {MAX_CELL_OUTPUT_BYTES // 1024 ** 2} MB of this cell's "
                "output and dropped the rest]\n")))
        return None
