"""The README's examples run, and every setting it documents exists."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import write_sources
from simweb import LOREM, article

from archiver.config import _ENV
from archiver.models import DriftClass, Flag

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")


def test_the_library_example_runs(web, tmp_path, monkeypatch):
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "run_check" in b]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARCHIVER_ALLOW_PRIVATE", "127.0.0.1/32")
    monkeypatch.setenv("ARCHIVER_WAYBACK", "0")
    monkeypatch.setenv("ARCHIVER_WORKERS", "1")
    write_sources(tmp_path / "sources.csv", [{"id": "1", "url": web.page("/a", article("Example", *LOREM))}])
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README is ours
    summary = namespace["summary"]
    assert summary.new_versions == 1 and (tmp_path / "snapshots" / "archiver.db").exists()


def test_every_documented_setting_exists():
    documented = set(re.findall(r"`(ARCHIVER_[A-Z_]+)", README))
    assert documented and documented <= set(_ENV), documented - set(_ENV)


def test_the_report_contract_names_every_flag_and_drift_class():
    contract = README[README.index("`status` is one of") : README.index("Fields are added")]
    flags = contract[contract.index("`flags` any of") : contract.index("`drift.kind`")]
    assert set(Flag) <= set(re.findall(r"`([a-z_]+)`", flags))
    verdicts = README[README.index("## Verdicts") : README.index("## The Wayback Machine")]
    for kind in DriftClass:
        assert f"| `{kind}` |" in verdicts and f"`{kind}`" in contract, kind


def test_the_review_examples_run(web, settings):
    import shlex

    from click.testing import CliRunner
    from conftest import write_sources
    from simweb import LOREM, article

    from archiver import run_check
    from archiver.cli import cli

    block = README[README.index("## Reviewing: the editor's decisions") :]
    lines = [line for line in block.split("```")[1].splitlines() if line.startswith("archiver review")]
    assert len(lines) == 4
    page = web.page("/story", article("Story", *LOREM))
    write_sources(
        settings.sources,
        [
            {"article": "river-heat", "id": "3", "url": page},
            {"id": "2", "url": web.url("/gone")},
            {"id": "7", "url": page},
        ],
    )
    run_check(settings)
    for line in lines:
        args = ["--data-dir", str(settings.data_dir), "--sources", str(settings.sources), *shlex.split(line)[1:]]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, (line, result.output)
