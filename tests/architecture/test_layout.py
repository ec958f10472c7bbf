"""The layout DESIGN.md section 3 asks for, checked on the source itself: feature packages
with no import cycle between them, ``twilio`` imported only by its adapter, a short list
of shared modules at the top of ``hotline/``."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import ROOT

HOTLINE = ROOT / "hotline"
#: The only plain modules at the top of hotline/: the app factory and shared helpers.
SHARED_MODULES = {"__init__", "audit", "errors", "extensions", "i18n", "labels", "logs", "phones"}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at module level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def unit(module: str) -> str | None:
    """The package (or shared module) of ``hotline`` that ``module`` belongs to."""
    parts = module.split(".")
    if parts[0] != "hotline" or len(parts) < 2:
        return None
    return parts[1]


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in HOTLINE.rglob("*.py"):
        if path == HOTLINE / "__init__.py":
            continue  # the app factory wires everything together: the composition root
        source = unit(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for module in imported_modules(path):
            target = unit(module)
            if target is None or target == source:
                continue
            if (HOTLINE / target).is_dir() or (HOTLINE / f"{target}.py").exists():
                graph[source].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_reports_a_cycle_and_accepts_a_dag():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_between_packages_of_hotline():
    graph = package_graph()
    assert graph["conversations"] >= {"cases", "telephony", "jobs"}  # the walk sees imports
    assert find_cycle(graph) is None, f"import cycle: {' → '.join(find_cycle(graph) or [])}"


def test_twilio_is_imported_only_by_its_adapter():
    importers = {
        path.relative_to(ROOT).as_posix()
        for path in HOTLINE.rglob("*.py")
        if any(m == "twilio" or m.startswith("twilio.") for m in imported_modules(path))
    }
    assert importers, "the Twilio adapter imports twilio"
    assert all(p.startswith("hotline/telephony/twilio/") for p in importers), importers


def test_top_of_hotline_holds_packages_and_a_few_shared_modules():
    modules = {p.stem for p in HOTLINE.glob("*.py")}
    assert modules == SHARED_MODULES
    packages = {p.name for p in HOTLINE.iterdir() if (p / "__init__.py").exists()}
    assert {"alerts", "cases", "conversations", "followups", "jobs", "referrals"} <= packages


def test_telephony_imports_no_feature_package():
    graph = package_graph()
    assert graph["telephony"] <= SHARED_MODULES | {"privacy"}, graph["telephony"]
