"""The client's modules import one another in one direction only (issue 16 item 9): ``Monitor`` imports no adapter,
the adapters take a monitor and never import the module-level API."""

from __future__ import annotations

import ast
import unittest
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "rlwatch_client"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set:
    """Every module of the package that ``path`` imports, at module level or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
            if node.module:
                found.add(target)
            else:  # from .. import _current
                found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("rlwatch_client"))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            # __init__'s lazy adapter lookup: importlib.import_module(f".integrations.{module}", __name__)
            found.add("rlwatch_client.integrations.*")
    return found


class ImportGraphTests(unittest.TestCase):
    def setUp(self) -> None:
        self.graph = {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}
        modules = set(self.graph)
        for name, targets in self.graph.items():
            expanded = set()
            for target in targets:
                if target.endswith(".*"):
                    expanded.update(m for m in modules if m.startswith(target[:-1]))
                elif target in modules:
                    expanded.add(target)
            self.graph[name] = expanded

    def test_monitor_imports_no_adapter_and_adapters_never_import_the_api(self) -> None:
        self.assertFalse([t for t in self.graph["rlwatch_client._monitor"] if ".integrations" in t])
        for name, targets in self.graph.items():
            if name.startswith("rlwatch_client.integrations"):
                self.assertNotIn("rlwatch_client._api", targets, name)

    def test_the_graph_has_no_cycle_below_the_package(self) -> None:
        # The package's __init__ re-exports everything and lazily loads adapters: it is the root, left out.
        graph = {name: {t for t in targets if t != "rlwatch_client"}
                 for name, targets in self.graph.items() if name != "rlwatch_client"}
        state = {}

        def visit(node, path):
            state[node] = "open"
            for target in graph.get(node, ()):
                if state.get(target) == "open":
                    self.fail("import cycle: " + " -> ".join(path + [target]))
                if target not in state:
                    visit(target, path + [target])
            state[node] = "done"

        for node in sorted(graph):
            if node not in state:
                visit(node, [node])
        # The check itself sees imports: the API module does import the monitor.
        self.assertIn("rlwatch_client._monitor", graph["rlwatch_client._api"])


if __name__ == "__main__":
    unittest.main()
