"""Maths in the feedback pages without MathJax's CDN: every ``$...$`` and ``$$...$$`` of the
lesson's markdown becomes MathML (latex2mathml), which browsers render natively (Chrome 109+,
Firefox, Safari), so a student opening the feedback offline sees formulas, not dollar signs.

Two steps around nbgrader's ``generate_feedback``: :class:`HideMath` (a preprocessor in the
feedback's pipeline) replaces each formula of the markdown cells by a plain token the markdown
renderer leaves alone; :func:`render` then puts the MathML in place of the tokens in the written
page, and removes the scripts nbconvert's template loads from the network (MathJax from
cdnjs): the page needs none, and loads nothing from elsewhere. A formula latex2mathml cannot
convert is shown as its source, in ``<code>``.
"""

import hashlib
import html
import re

from nbconvert.preprocessors import Preprocessor
from traitlets import default

FORMULA = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\$)(.+?)(?<!\\)\$", re.S)


def _token(tex, display):
    return "BPCMATH" + hashlib.sha1(f"{display}{tex}".encode()).hexdigest()[:16].upper()


def formulas(markdown):
    """[(token, tex, display)] of the formulas in a markdown text, in order."""
    out = []
    for match in FORMULA.finditer(markdown):
        display = match.group(1) is not None
        tex = match.group(1) if display else match.group(2)
        out.append((_token(tex, display), tex, display))
    return out


def hide(markdown):
    """The markdown with each formula replaced by its token."""
    return FORMULA.sub(lambda m: _token(m.group(1) if m.group(1) is not None else m.group(2),
                                        m.group(1) is not None), markdown)


class HideMath(Preprocessor):
    """Replace the formulas of markdown cells by tokens (see :func:`render`)."""

    @default("enabled")
    def _enabled_default(self):  # nbconvert registers preprocessors disabled unless told
        return True

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = hide(cell.source)
        return cell, resources


def mathml(tex, display):
    from latex2mathml.converter import convert

    try:
        return convert(tex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - latex2mathml does not know every macro
        return f"<code>{html.escape(tex)}</code>"


EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\ssrc=[\"']?(?:https?:)?//[^>]*>\s*</script>", re.I)
MATHJAX_CONFIG = re.compile(r"<script type=\"text/x-mathjax-config\">.*?</script>", re.S)


def render(page, notebook):
    """The HTML ``page`` with every token of ``notebook``'s markdown formulas replaced by MathML,
    and no script loaded from the network."""
    page = MATHJAX_CONFIG.sub("", EXTERNAL_SCRIPT.sub("", page))
    table = {}
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for token, tex, display in formulas(cell.source):
                table.setdefault(token, (tex, display))
    if not table:
        return page
    return re.sub(r"BPCMATH[0-9A-F]{16}",
                  lambda m: mathml(*table[m.group(0)]) if m.group(0) in table else m.group(0), page)
