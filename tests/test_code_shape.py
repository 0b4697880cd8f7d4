"""The size rules of STYLE.md and issue 21, checked: no module in app/ over 600 lines, no
function over 80 lines. A long function is split along its named steps, not left to grow;
an exception goes in the allow-lists below with the reason it stays."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

#: "app/path.py" -> why the module may stay longer (empty: none may)
MODULE_ALLOWED: dict[str, str] = {}

#: "app/path.py:function" -> why it may stay longer (empty: none may)
FUNCTION_ALLOWED: dict[str, str] = {}


def _modules(root: Path = APP):
    for path in sorted(root.rglob("*.py")):
        yield path.relative_to(root.parent).as_posix(), path.read_text(encoding="utf-8")


def _line_count(source: str) -> int:
    return len(source.splitlines())


def long_modules(root: Path = APP) -> dict[str, int]:
    return {
        name: _line_count(source)
        for name, source in _modules(root)
        if _line_count(source) > MAX_MODULE_LINES
    }


def long_functions(root: Path = APP) -> dict[str, int]:
    """Every def (nested ones and methods too), by its span from ``def`` to its last line
    (decorators and the docstring count: they are read with it)."""
    found = {}
    for name, source in _modules(root):
        for node in ast.walk(ast.parse(source, filename=name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                span = node.end_lineno - node.lineno + 1
                if span > MAX_FUNCTION_LINES:
                    found[f"{name}:{node.name}"] = span
    return found


def test_no_module_in_app_is_over_600_lines():
    over = {k: v for k, v in long_modules().items() if k not in MODULE_ALLOWED}
    assert over == {}, f"modules over {MAX_MODULE_LINES} lines (split along their seams): {over}"


def test_no_function_in_app_is_over_80_lines():
    over = {k: v for k, v in long_functions().items() if k not in FUNCTION_ALLOWED}
    assert over == {}, f"functions over {MAX_FUNCTION_LINES} lines (split into named steps): {over}"


def test_the_allow_lists_name_only_what_is_still_long():
    """An entry that no longer applies is removed, so the lists stay an honest record."""
    stale = (set(MODULE_ALLOWED) - set(long_modules())) | (
        set(FUNCTION_ALLOWED) - set(long_functions())
    )
    assert stale == set()


def test_the_checker_sees_a_long_function_and_module(tmp_path):
    """The rules can fail: an 81-line function and a 601-line module are caught."""
    root = tmp_path / "app"
    root.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(80))
    (root / "short.py").write_text(f"def f():\n{body[: body.rindex(chr(10))]}\n")
    (root / "long.py").write_text(f"def g():\n{body}\n" + "y = 1\n" * 520)
    assert long_functions(root) == {"app/long.py:g": 81}
    assert long_modules(root) == {"app/long.py": 601}
