"""nbgrader's Execute with bounds on how much output it keeps.

nbgrader's own LimitOutput counts lines, after the whole output is in memory, so one 100 MB line
was kept whole. Here nbclient's output hooks keep at most :data:`MAX_CELL_OUTPUT_BYTES` of each
cell's output and :data:`MAX_NOTEBOOK_OUTPUT_BYTES` of the whole notebook's (with one note saying
what was dropped), while the cells go on running. An ``update_display_data`` message rewrites every
output that shares its display id, so it is charged once per such output: a display shown 400
times and then updated with 1 MB would otherwise become 400 MB in the notebook.
"""

import json

import nbformat
from nbgrader.preprocessors import Execute

MAX_CELL_OUTPUT_BYTES = 1024 ** 2
MAX_NOTEBOOK_OUTPUT_BYTES = 10 * 1024 ** 2


class BoundedExecute(Execute):
    """Execute that keeps at most ``MAX_CELL_OUTPUT_BYTES`` per cell and
    ``MAX_NOTEBOOK_OUTPUT_BYTES`` per notebook of output."""

    def _charge(self, cell_index, size):
        """Count ``size`` bytes against the cell's and the notebook's budgets; True if over."""
        budget = self.__dict__.setdefault("_output_bytes", {"total": 0})
        budget[cell_index] = budget.get(cell_index, 0) + size
        budget["total"] += size
        return budget[cell_index] > MAX_CELL_OUTPUT_BYTES or budget["total"] > MAX_NOTEBOOK_OUTPUT_BYTES

    def _note_once(self, outs, cell_index):
        noted = self.__dict__.setdefault("_noted", set())
        if cell_index not in noted:
            noted.add(cell_index)
            outs.append(nbformat.v4.new_output("stream", name="stdout", text=(
                f"\n[the grader keeps {MAX_CELL_OUTPUT_BYTES // 1024 ** 2} MB of output per cell and "
                f"{MAX_NOTEBOOK_OUTPUT_BYTES // 1024 ** 2} MB per notebook; the rest was dropped]\n")))

    def output(self, outs, msg, display_id, cell_index):
        if self._charge(cell_index, len(json.dumps(msg.get("content", {}), default=str))):
            self._note_once(outs, cell_index)
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _update_display_id(self, display_id, msg):
        places = self._display_id_map.get(display_id, {})
        copies = sum(len(indices) for indices in places.values())
        size = len(json.dumps(msg.get("content", {}), default=str))
        if copies and self._charge("updates", size * copies):
            return  # dropped: the outputs keep what they showed
        super()._update_display_id(display_id, msg)
