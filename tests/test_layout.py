"""The codebase's shape: no import cycle under server/, small modules, thin routes."""
import ast
import pathlib

SERVER = pathlib.Path(__file__).resolve().parent.parent / "server"
MAX_LINES = 300


def _modules():
    found = {}
    for path in SERVER.rglob("*.py"):
        parts = path.relative_to(SERVER.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(name, path, modules):
    """Every ``server`` module ``name`` imports, at any depth of the file (function-level too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names)
    resolved = set()
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def _cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for other in sorted(graph[node]):
            if state.get(other) == "open":
                return trail[trail.index(other):] + [other]
            if other not in state and (found := visit(other, trail + [other])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_no_import_cycle_under_server():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert graph["server.services.compliance"] >= {"server.services.compliance.stored"}  # the walk sees imports
    assert _cycle(graph) is None, " → ".join(_cycle(graph))


def test_the_compliance_rules_import_no_database_code():
    modules = _modules()
    rules = _imports("server.services.compliance.rules", modules["server.services.compliance.rules"], modules)
    assert not {m for m in rules if m.startswith(("server.models", "server.extensions", "server.database"))}


def test_no_module_is_two_ideas():
    long = {str(path.relative_to(SERVER.parent)): n for path in SERVER.rglob("*.py")
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_routes_never_touch_models():
    modules = _modules()
    touching = {name: sorted(m for m in _imports(name, path, modules) if m.startswith("server.models"))
                for name, path in modules.items() if name.startswith("server.routes")}
    assert {name: found for name, found in touching.items() if found} == {}
