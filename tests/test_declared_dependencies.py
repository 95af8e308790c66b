"""Every third-party module the code imports belongs to a distribution pyproject.toml declares:
an import that works here only because another package pulled it in breaks a fresh install."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_CODE = [
    ROOT / "analytics_pipeline",
    ROOT / "assets",
    ROOT / "sensors",
    ROOT / "definitions.py",
]
TEST_CODE = [ROOT / "tests", ROOT / "benchmarks", ROOT / "scripts"]
OWN_MODULES = {"analytics_pipeline", "assets", "sensors", "definitions", "tests", "benchmarks"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(*groups: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for group in groups:
        requirements += project["optional-dependencies"][group]
    return {
        _normalise(re.split(r"[\[=<>!~; ]", requirement, maxsplit=1)[0])
        for requirement in requirements
    }


def _imported_modules(paths: list[Path]) -> dict[str, Path]:
    """Top-level names of absolute imports, each with one file that imports it."""
    found: dict[str, Path] = {}
    files = [p for path in paths for p in ([path] if path.is_file() else path.rglob("*.py"))]
    for file in files:
        if ".venv" in file.parts or "node_modules" in file.parts:
            continue
        for node in ast.walk(ast.parse(file.read_text(), str(file))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], file)
    return found


def _undeclared(paths: list[Path], declared: set[str], root: Path = ROOT) -> list[str]:
    distributions = packages_distributions()
    missing = []
    for module, file in sorted(_imported_modules(paths).items()):
        if module in sys.stdlib_module_names or module in OWN_MODULES or module == "__future__":
            continue
        if (file.parent / f"{module}.py").exists():  # a script's sibling module
            continue
        owners = {_normalise(d) for d in distributions.get(module, [])}
        if not owners:
            missing.append(f"{module} (imported by {file.relative_to(root)}) is not installed")
        elif not owners & declared:
            missing.append(
                f"{module} (imported by {file.relative_to(root)}) comes from "
                f"{', '.join(sorted(owners))}, which pyproject.toml does not declare"
            )
    return missing


def test_every_import_of_the_service_is_a_declared_dependency() -> None:
    assert _undeclared(RUNTIME_CODE, _declared()) == []


def test_every_import_of_the_tests_and_benchmarks_is_declared_with_the_dev_extra() -> None:
    assert _undeclared(TEST_CODE, _declared("dev")) == []


def test_the_check_sees_an_undeclared_import(tmp_path: Path) -> None:
    module = tmp_path / "uses_yaml.py"
    module.write_text("import yaml\nimport json\nfrom analytics_pipeline import config\n")
    missing = _undeclared([module], _declared(), root=tmp_path)
    assert len(missing) == 1 and missing[0].startswith("yaml (imported by uses_yaml.py)")
