"""`pip install .` without the extras: Celery, redis and psycopg are the `distributed` and `postgres`
extras, so the README's set-up command installs none of them. The archiver runs without them, and a
setting that needs one says what to install instead of a traceback. Real `archiver` processes whose
Python cannot import those packages (an import hook refuses them, as if they were not installed)."""

from __future__ import annotations

import subprocess
import sys

from conftest import SUBPROCESS_ENV

WITHOUT_EXTRAS = """
import sys
from importlib.abc import MetaPathFinder

class NotInstalled(MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("celery", "kombu", "redis", "psycopg"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from archiver.cli import main
sys.argv = ["archiver", *sys.argv[1:]]
main()
"""


def archiver_without_extras(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS, "--data-dir", str(tmp_path / "data"), *args],
        env={**SUBPROCESS_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def test_the_archiver_runs_without_the_distributed_extra(tmp_path):
    (tmp_path / "sources.csv").write_text("id,url,claim\n", encoding="utf-8")
    done = archiver_without_extras(tmp_path, "--sources", str(tmp_path / "sources.csv"), "check")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_distributed_mode_without_celery_names_the_extra_to_install(tmp_path):
    broker = {"ARCHIVER_BROKER_URL": "redis://127.0.0.1:9/0", "ARCHIVER_DATABASE_URL": "postgresql://127.0.0.1:9/x"}
    for command in (["worker"], ["status"]):
        done = archiver_without_extras(tmp_path, *command, **broker)
        assert done.returncode == 3, (command, done.stderr)
        assert "pip install 'citation-archiver[distributed]'" in done.stderr and "Traceback" not in done.stderr
