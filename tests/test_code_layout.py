"""The package's shape as ARCHITECTURE.md describes it: imports go one way, from the frame down to
the shared pieces, and no two modules import each other, even through functions' lazy imports."""

import ast
import pathlib

import pytest

LAUNCHER = pathlib.Path(__file__).resolve().parent.parent / "launcher"

# Each room may import itself and the rooms listed after it; the frame (cli, __main__) may import any.
BELOW = {
    "pyz": ("frame", "shared"),  # the pyz's own start: it runs cli, or too_old on a Python older than 3.7
    "package": ("frame", "shared"),  # the installed package's console script: cli, and `sm-train pyz`
    "shared": (),
    "core": ("shared",),
    "aws": ("core", "shared"),
    "fetch": ("aws", "core", "shared"),
    "intermediate": ("aws", "core", "shared"),
    "run": ("core", "shared"),
    "cluster": ("run", "core", "shared"),
    "local": ("fetch", "aws", "run", "core", "shared"),
    "check": ("cluster", "aws", "run", "core", "shared"),  # reads what a start would use, from every room below
    "start": ("cluster", "intermediate", "fetch", "aws", "run", "core", "shared"),
}
SHARED = {"launcher", "launcher.errors", "launcher.log", "launcher.jsonc", "launcher.jsonvalid", "launcher.masking",
          "launcher.options", "launcher.too_old"}
FRAME = {"launcher.cli", "launcher.__main__"}


def module_name(path):
    parts = list(path.relative_to(LAUNCHER.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(LAUNCHER.rglob("*.py"))}


def room(module):
    if module in FRAME:
        return "frame"
    if module in SHARED:
        return "shared"
    return module.split(".")[1]


def imports(module):
    """Every launcher module that ``module`` imports, at the top or inside a function."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("launcher"))
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("launcher"):
                target = node.module
            else:
                continue
            for alias in node.names:  # `from . import x` names a module when x is one
                sub = target + "." + alias.name
                found.add(sub if sub in MODULES else target)
    return {name for name in found if name != module}


def test_every_module_is_in_a_room():
    assert {room(m) for m in MODULES} <= set(BELOW) | {"frame"}
    assert set(BELOW) | {"frame"} == {room(m) for m in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down(module):
    here = room(module)
    if here == "frame":
        return
    allowed = set(BELOW[here]) | {here}
    wrong = sorted(m for m in imports(module) if room(m) not in allowed)
    assert not wrong, "%s (%s) imports %s" % (module, here, wrong)


def test_no_import_cycle():
    graph = {m: imports(m) for m in MODULES}
    done, path = set(), []

    def visit(m):
        if m in path:
            raise AssertionError("import cycle: %s" % " -> ".join(path[path.index(m):] + [m]))
        if m in done:
            return
        path.append(m)
        for n in sorted(graph[m]):
            if n in graph:
                visit(n)
        path.pop()
        done.add(m)

    for m in sorted(graph):
        visit(m)


def test_the_checker_sees_lazy_and_relative_imports():
    assert "launcher.cluster.engines" in imports("launcher.start")  # a lazy import inside a function
    assert "launcher.core.probes" in imports("launcher.cluster.node")
    assert "launcher.local.tree" in imports("launcher.local.main")  # `from . import tree as local_tree`


def test_no_module_is_over_300_lines():
    long = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    assert max(long.values()) <= 300, sorted(long.items(), key=lambda kv: -kv[1])[:3]


def test_no_function_is_over_60_lines():
    long = {}
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                long["%s.%s" % (module, node.name)] = node.end_lineno - node.lineno + 1
    assert max(long.values()) <= 60, sorted(long.items(), key=lambda kv: -kv[1])[:3]
