"""The layering of STYLE.md holds (the import-linter contracts in pyproject.toml: pure modules do no
I/O, stages do not import each other, the store knows nothing above it, the report and serve only
read, the archiving step never runs a pass, only the CLI sits on top), and no module or class grows
past what one concept needs."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    contracts = len(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]["contracts"])
    assert f"{contracts} kept, 0 broken" in result.stdout


MAX_MODULE_LINES = 400  # past this a module holds more than one family of things: split it (STYLE.md)
MAX_CLASS_LINES = 250


def test_no_module_is_over_400_lines_and_no_class_over_250():
    too_long = []
    for path in sorted((ROOT / "archiver").rglob("*.py")):
        text = path.read_text("utf-8")
        where = path.relative_to(ROOT).as_posix()
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{where}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_CLASS_LINES:
                    too_long.append(f"{where}: class {node.name} is {length} lines")
    assert too_long == []


def test_coroutines_run_through_aio_whose_result_is_never_formatted():
    """`asyncio.run` formats its finished task, result included, on Python 3.11 (see archiver.aio):
    a 10,000-check pass summary cost 30 MiB there. Every coroutine the library runs goes through `aio.run`."""
    from archiver import aio

    class Large:
        formatted = 0

        def __repr__(self) -> str:
            Large.formatted += 1
            return "Large()"

    async def main() -> Large:
        return Large()

    assert isinstance(aio.run(main()), Large)
    assert Large.formatted == 0
    direct = [
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "archiver").rglob("*.py"))
        if "asyncio.run(" in path.read_text("utf-8") and path.name != "aio.py"
    ]
    assert direct == []
