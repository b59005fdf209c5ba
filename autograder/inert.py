"""Make what the instructor opens inert: no live script from a student's notebook, bounded size.

Everything a graded notebook displays comes out of a kernel that ran student code, which can
display anything (``display(HTML("<script>..."))``, an ``<img onerror=...>``, an SVG with a
script, JavaScript). The formgrader renders the autograded notebook in the instructor's browser,
and the feedback HTML is opened by instructors and students. So, in every output of every cell:

* only inert MIME types are kept: ``text/plain``, ``image/png``, ``image/jpeg``, ``image/gif``;
  HTML, JavaScript, SVG, Markdown, LaTeX and widget views are dropped (each rich output has a
  ``text/plain`` form, which stays; where none is left a note says what was removed);
* sizes are bounded: stream and text outputs to :data:`MAX_TEXT_CHARS`, images to
  :data:`MAX_IMAGE_BYTES`, at most :data:`MAX_OUTPUTS` outputs per cell.

Text is escaped by nbconvert and the formgrader when rendered. Markdown cells come from the released
lesson, never from the submission (:mod:`autograder.submission`). nbconvert's own
``HTMLExporter.sanitize_html`` is not used: its allowlist (bleach's) would also strip the lesson's
headings, tables, images and MathML from the feedback page.
"""

import json

import nbformat

SAFE_TYPES = {"text/plain", "image/png", "image/jpeg", "image/gif"}
MAX_TEXT_CHARS = 100_000
MAX_IMAGE_BYTES = 2 * 1024 ** 2
MAX_OUTPUTS = 50
MAX_NOTEBOOK_OUTPUT_CHARS = 20_000_000  # all outputs of a notebook, as JSON text


def _truncate(text):
    if isinstance(text, list):
        text = "".join(str(t) for t in text)
    text = str(text)
    if len(text) > MAX_TEXT_CHARS:
        return text[:MAX_TEXT_CHARS] + "\n[... output truncated by the grader ...]\n"
    return text


def clean_output(output):
    """The output with only inert, bounded content (a new dict); None to drop it."""
    kind = output.get("output_type")
    if kind == "stream":
        return nbformat.v4.new_output("stream", name=str(output.get("name", "stdout"))[:10],
                                      text=_truncate(output.get("text", "")))
    if kind == "error":
        return nbformat.v4.new_output(
            "error", ename=str(output.get("ename", ""))[:200],
            evalue=_truncate(output.get("evalue", ""))[:2000],
            traceback=[_truncate(line)[:5000] for line in list(output.get("traceback", []))[:200]])
    if kind in ("display_data", "execute_result"):
        data, removed = {}, []
        for mime, value in dict(output.get("data", {})).items():
            if mime not in SAFE_TYPES:
                removed.append(mime)
            elif mime.startswith("image/"):
                if len(str(value)) <= MAX_IMAGE_BYTES * 4 // 3:  # base64
                    data[mime] = str(value)
                else:
                    removed.append(f"{mime} over {MAX_IMAGE_BYTES // 1024 ** 2} MB")
            else:
                data[mime] = _truncate(value)
        if removed and "text/plain" not in data:
            data["text/plain"] = f"[the grader removed output it does not show: {', '.join(removed)[:200]}]"
        if not data:
            return None
        if kind == "execute_result":
            return nbformat.v4.new_output("execute_result", data=data,
                                          execution_count=output.get("execution_count"))
        return nbformat.v4.new_output("display_data", data=data)
    return None  # an unknown output type


def clean_notebook(nb):
    """Replace every code cell's outputs by their inert, bounded versions (in place); drop
    attachments and any cell type other than markdown and code; past
    :data:`MAX_NOTEBOOK_OUTPUT_CHARS` in all, outputs are dropped. Returns ``nb``."""
    total = 0
    for cell in nb.cells:
        cell.pop("attachments", None)
        if cell.get("cell_type") != "code":
            continue
        outputs = [clean_output(o) for o in list(cell.get("outputs", []))[:MAX_OUTPUTS]]
        kept = []
        for output in (o for o in outputs if o is not None):
            total += len(json.dumps(output))
            if total > MAX_NOTEBOOK_OUTPUT_CHARS:
                kept.append(nbformat.v4.new_output("stream", name="stdout", text=(
                    "[the grader keeps 20 MB of output per notebook; the rest was removed]\n")))
                break
            kept.append(output)
        cell["outputs"] = kept
        if len(cell.get("outputs", [])) >= MAX_OUTPUTS:
            cell["outputs"].append(nbformat.v4.new_output(
                "stream", name="stdout",
                text=f"[... more than {MAX_OUTPUTS} outputs; the rest were removed]\n"))
    nb.cells = [c for c in nb.cells if c.get("cell_type") in ("markdown", "code")]
    nb.metadata.pop("widgets", None)
    return nb
