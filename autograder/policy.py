"""The course's policy on calling bplib, read from an answer's source.

Each exercise names the bplib functions and classes that already do what it asks
(``Exercise.implemented_by``): an answer that uses one scores 0 for that exercise. Two layers find
such a use: this module reads the answer cell's source (imports and dotted names, however they are
aliased), and :class:`bplib.grading.Tripwire` notes a call at run time, however the function was
reached. Later lessons use bplib freely: their exercises name nothing.

The source is parsed, never run. A cell that does not parse is left to the run (its error is
reported there).
"""

import ast

GRADER_PACKAGE = "autograder"


def _aliases(tree):
    """{local name: dotted name it stands for} from the imports of ``tree``; star imports as
    ``{"*": [module, ...]}``."""
    aliases, stars = {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:  # `import a.b` binds `a`
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name == "*":
                    stars.append(node.module)
                else:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases, stars


def _dotted(node):
    """``a.b.c`` for a chain of attribute lookups on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def referenced_names(source):
    """Every dotted name the source refers to, with import aliases resolved
    (``from bplib.layers import ReLU as R; R()`` gives ``bplib.layers.ReLU``), plus every module
    it imports. None if the source does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    aliases, stars = _aliases(tree)
    names = set(aliases.values()) | {f"{module}.*" for module in stars}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Name)):
            dotted = _dotted(node)
            if dotted:
                head, _, rest = dotted.partition(".")
                if head in aliases:
                    names.add(aliases[head] + (f".{rest}" if rest else ""))
    return names


def _covers(reference, forbidden):
    """Whether ``reference`` (a dotted name used in the source) is, or is inside, ``forbidden``;
    a star import of the module that holds it counts too."""
    if reference == forbidden or reference.startswith(forbidden + "."):
        return True
    if reference.endswith(".*"):
        return forbidden.rsplit(".", 1)[0].startswith(reference[:-2])
    return False


def uses_of(source, implemented_by):
    """The names of ``implemented_by`` that ``source`` uses (sorted), and whether it imports the
    grader's own package."""
    names = referenced_names(source) or set()
    used = sorted({forbidden for forbidden in implemented_by for reference in names
                   if _covers(reference, forbidden)})
    grader = any(name == GRADER_PACKAGE or name.startswith(GRADER_PACKAGE + ".") for name in names)
    return used, grader


# Ways to reach the grader's objects inside the student's own process (frames, classes, closures,
# the garbage collector): an answer has no need of them, a forged one may.
INTROSPECTION = ("sys._getframe", "sys._current_frames", "inspect", "gc", "ctypes", "f_locals",
                 "f_back", "f_globals", "__mro__", "__subclasses__", "__closure__", "__globals__",
                 "tb_frame", "gi_frame", "cr_frame")


def introspection(source):
    """The introspection tools ``source`` names (see :data:`INTROSPECTION`), sorted."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    aliases, _ = _aliases(tree)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in INTROSPECTION:
            found.add(node.attr)
        dotted = _dotted(node) if isinstance(node, (ast.Attribute, ast.Name)) else None
        head, _, rest = (dotted or "").partition(".")
        if head in aliases:  # a name the source imported (not any variable called gc)
            resolved = aliases[head] + (f".{rest}" if rest else "")
            found.update(name for name in INTROSPECTION
                         if resolved == name or resolved.startswith(name + "."))
    for module in aliases.values():
        if module.split(".")[0] in ("inspect", "gc", "ctypes"):
            found.add(module.split(".")[0])
    return sorted(found)
