"""The package's layout: stages in the order data flows, and no stage imports a higher one.

Every import of the package counts, at module level or inside a function (lazy imports are
still dependencies), TYPE_CHECKING blocks included.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "bulk_onboard"

# Lower stages first. A module may import its own package and any lower rank, never a higher or
# an equal one (siblings of one rank know nothing of each other).
RANKS: dict[str, int] = {
    "errors": 0, "logs": 0, "base": 0,
    "sheet": 1,
    "rows": 2,
    "api": 3, "preflight": 3,
    "settings": 4, "engine": 4,
    "runs": 5,
    "reports": 6, "sync": 6,
    "sandbox": 7,
    "jobs": 8,
    "library": 9,
    "commands": 10,
    "cli": 11,
}  # fmt: skip
# `python -m` entry points sit above everything by nature.
ENTRY_POINTS = ("__main__",)


def _stage(module: str) -> str:
    """`bulk_onboard.api.client` -> `api`; `bulk_onboard.cli` -> `cli`."""
    return module.split(".")[1]


def _module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """(line, imported module, names taken from it) for every import of the package."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("bulk_onboard"):
                    yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bulk_onboard"):
            assert node.level == 0, f"{path}: use absolute imports"
            module = node.module or ""
            names = tuple(alias.name for alias in node.names)
            if module == "bulk_onboard":  # `from bulk_onboard import x`: the module x
                for name in names:
                    yield node.lineno, f"{module}.{name}", ()
            else:
                yield node.lineno, module, names


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_stage_has_a_rank() -> None:
    stages = {_stage(_module_of(p)) for p in _sources() if _module_of(p) != "bulk_onboard"}
    assert stages - set(ENTRY_POINTS) <= set(RANKS), stages - set(RANKS) - set(ENTRY_POINTS)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_stage(path: Path) -> None:
    module = _module_of(path)
    if module == "bulk_onboard" or path.stem in ENTRY_POINTS:
        return
    stage = _stage(module)
    upward = [
        f"line {line}: {target}"
        for line, target, _ in _imports(path)
        if _stage(target) != stage and RANKS[_stage(target)] >= RANKS[stage]
    ]
    assert upward == [], f"{module} ({stage}, rank {RANKS[stage]}) imports upward: {upward}"


def test_at_most_eight_modules_stand_beside_the_packages() -> None:
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(loose) <= 8, loose


def test_every_package_says_what_its_stage_does() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc, f"{init} needs a docstring that says what the stage does"
        assert len(doc) > 40, f"{init}'s docstring is too short to say what the stage does"
