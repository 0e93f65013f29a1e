"""The import rules between the floors of `solutions/`, read from the source with `ast`.

Dependencies point one way: cli -> batch -> registry -> domain -> its family -> core.
Every `import` and `from ... import` counts, wherever it sits (module level, inside a
function, under `if TYPE_CHECKING:`), and relative imports are resolved first. Nothing
here imports the package, so the test needs no TensorFlow and runs in well under a second.
See ARCHITECTURE.md for the reasons behind each rule.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "solutions"

CORE = "core"
FAMILIES = ("tables", "imaging")
# Each domain's family, or None for a domain that stands on core alone. A new domain or
# family must be added here: an unlisted folder under solutions/ fails test_every_package_is_listed.
FAMILY_OF: dict[str, str | None] = {
    "fraud_detection": "tables",
    "credit_scoring": "tables",
    "image_classification": "imaging",
    "medical_imaging": "imaging",
    "object_detection": "imaging",
    "sentiment": None,
}
BATCH = "batch"
REGISTRY = "registry"  # solutions/__init__.py: SOLUTIONS, get_solution, list_solutions
CLI = "cli"  # solutions/cli.py and solutions/__main__.py


@dataclass(frozen=True)
class ImportedName:
    path: str  # relative to the repository root
    line: int
    module: str  # what is imported, as written after resolving relative imports
    floor: str | None  # the floor it lands on, None outside solutions/


def floor_of(module: str) -> str | None:
    """The floor an absolute module name lands on; None when it is not part of `solutions`.

    >>> floor_of("solutions.core.metrics"), floor_of("solutions.tables.columns"), floor_of("solutions")
    ('core', 'tables', 'registry')
    >>> floor_of("solutions.fraud_detection.solution"), floor_of("keras.layers")
    ('fraud_detection', None)
    """
    parts = module.split(".")
    if parts[0] != "solutions":
        return None
    if len(parts) == 1:
        return REGISTRY
    head = parts[1]
    if head in ("cli", "__main__"):
        return CLI
    if head in (CORE, BATCH, *FAMILIES, *FAMILY_OF):
        return head
    if (PACKAGE / head).is_dir() or (PACKAGE / f"{head}.py").exists():
        return f"unlisted package {head!r}"
    return REGISTRY  # a name the registry module defines, e.g. solutions.get_solution


def _resolve_relative(node: ast.ImportFrom, module_name: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module_name.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_names(source: str, path: str, module_name: str, is_package: bool = False) -> list[ImportedName]:
    """Every import in `source`, at any depth, as absolute module names with their floor.

    `from solutions import X` names the subpackage `solutions.X` when one exists (a domain,
    core, batch...), otherwise X is one of the registry's own names.

    >>> [i.module for i in imported_names("def f():\\n    from .metrics import auc\\n", "x.py", "solutions.core.runs")]
    ['solutions.core.metrics']
    >>> [(i.module, i.floor) for i in imported_names("from solutions import get_solution", "x.py", "solutions.core.x")]
    [('solutions (get_solution)', 'registry')]
    """
    found = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(ImportedName(path, node.lineno, alias.name, floor_of(alias.name)))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(node, module_name, is_package)
            for alias in node.names:
                if base == "solutions":
                    sub = f"solutions.{alias.name}"
                    floor = floor_of(sub)
                    module = sub if floor != REGISTRY else f"solutions ({alias.name})"
                    found.append(ImportedName(path, node.lineno, module, floor))
                else:
                    found.append(ImportedName(path, node.lineno, base, floor_of(base)))
    return sorted(found, key=lambda name: name.line)


def allowed_floors(package: str) -> set[str] | None:
    """The floors `package` may import from; None means anything (the CLI on top)."""
    if package == CORE:
        return {CORE}
    if package in FAMILIES:
        return {CORE, package}
    if package in FAMILY_OF:
        family = FAMILY_OF[package]
        return {CORE, package} | ({family} if family else set())
    if package == REGISTRY:
        return {CORE, REGISTRY}  # domains are loaded lazily from the SOLUTIONS strings, never imported
    if package == BATCH:
        return {CORE, REGISTRY, BATCH}
    if package == CLI:
        return None
    raise AssertionError(f"no import rule for package {package!r}: add it to tests/test_import_rules.py")


def violations(package: str, names: list[ImportedName]) -> list[str]:
    """One message per import that breaks `package`'s rule: file, line, module, and the rule."""
    allowed = allowed_floors(package)
    if allowed is None:
        return []
    return [
        f"{n.path}:{n.line}: {package} imports {n.module} (floor {n.floor}); {package} may import only "
        f"{', '.join(sorted(allowed))}"
        for n in names
        if n.floor is not None and n.floor not in allowed
    ]


def package_files(package: str) -> list[Path]:
    if package == REGISTRY:
        return [PACKAGE / "__init__.py"]
    if package == CLI:
        return [PACKAGE / "cli.py", PACKAGE / "__main__.py"]
    return sorted((PACKAGE / package).rglob("*.py"))


def check_package(package: str) -> list[str]:
    problems = []
    for file in package_files(package):
        relative = file.relative_to(ROOT)
        is_package = file.name == "__init__.py"
        parts = list(relative.with_suffix("").parts)
        module_name = ".".join(parts[:-1] if is_package else parts)
        names = imported_names(file.read_text(encoding="utf-8"), str(relative), module_name, is_package)
        problems.extend(violations(package, names))
    return problems


PACKAGES = [CORE, *FAMILIES, *FAMILY_OF, REGISTRY, BATCH, CLI]


@pytest.mark.parametrize("package", PACKAGES)
def test_package_follows_import_rules(package):
    assert package_files(package), f"no Python files found for {package!r}"
    problems = check_package(package)
    assert not problems, "import rules broken (see ARCHITECTURE.md):\n" + "\n".join(problems)


def test_every_package_is_listed():
    on_disk = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    listed = {CORE, BATCH, *FAMILIES, *FAMILY_OF}
    assert on_disk == listed, (
        f"packages under solutions/ without an import rule: {sorted(on_disk - listed)}; "
        f"listed but missing: {sorted(listed - on_disk)}. Update FAMILY_OF / FAMILIES in tests/test_import_rules.py."
    )
    assert set(FAMILY_OF.values()) - {None} <= set(FAMILIES)


def test_checker_reports_made_up_violations():
    source = (
        "import numpy as np\n"
        "from solutions.core import metrics\n"
        "from solutions import get_solution\n"
        "def late():\n"
        "    from solutions.fraud_detection.data import load\n"
        "    from ..batch import plan\n"
        "    import solutions.tables.columns\n"
    )
    names = imported_names(source, "solutions/core/fake.py", "solutions.core.fake")
    problems = violations(CORE, names)
    assert len(problems) == 4, problems
    assert problems[0].startswith("solutions/core/fake.py:3: core imports solutions (get_solution)")
    assert problems[1].startswith("solutions/core/fake.py:5: core imports solutions.fraud_detection.data")
    assert problems[2].startswith("solutions/core/fake.py:6: core imports solutions.batch")
    assert problems[3].startswith("solutions/core/fake.py:7: core imports solutions.tables.columns")
    # The same function-level import of another domain, from a domain of the same family.
    domain_names = imported_names(source, "solutions/credit_scoring/fake.py", "solutions.credit_scoring.fake")
    assert any("solutions.fraud_detection.data" in p for p in violations("credit_scoring", domain_names))
    assert any("solutions.tables.columns" in p for p in violations("image_classification", domain_names))
    assert not any("imports solutions.tables" in p for p in violations("credit_scoring", domain_names))
