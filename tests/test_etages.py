"""The house's floors (README, « Plan du code »): the ground (`core/`) imports none of the stages, the stages
import the ground and, for the assets, the checks they attach and the reports they ask for; only the roof
(`pipelines/`) imports everything. No import runs back up and no two top-level folders import each other,
function-level imports included."""

from __future__ import annotations

import ast

from core.config.base import PROJECT_ROOT

PACKAGES = ("core", "checks", "reports", "assets", "portail", "pipelines")
# what each floor may import of the project's packages (besides itself)
ALLOWED = {
    "core": set(),
    "checks": {"core"},
    "reports": {"core"},
    "assets": {"core", "checks", "reports"},
    # the deposit portal checks a file as staging would and reads what the run published
    "portail": {"core", "assets"},
    "pipelines": {"core", "checks", "reports", "assets", "portail"},
}


def _imports(package: str) -> dict[str, set[str]]:
    """Each project package a module of `package` imports → the modules that import it, at any depth of the code."""
    found: dict[str, set[str]] = {}
    for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            for name in names:
                top = name.split(".")[0]
                if top in PACKAGES and top != package:
                    found.setdefault(top, set()).add(str(path.relative_to(PROJECT_ROOT)))
    return found


def test_no_import_runs_back_up():
    wrong = {f"{package} → {target}": sorted(modules) for package in PACKAGES
             for target, modules in _imports(package).items() if target not in ALLOWED[package]}
    assert wrong == {}


def test_no_two_top_level_folders_import_each_other():
    edges = {(p, t) for p in PACKAGES for t in _imports(p)}
    assert {(p, t) for p, t in edges if (t, p) in edges} == set()


def test_every_stage_stands_on_the_ground():
    for package in ("checks", "reports", "assets", "pipelines"):
        assert "core" in _imports(package), package
