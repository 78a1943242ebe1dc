"""pywb, the replay tool two tests hand our WARC files to, from a virtual environment of its own: pywb
pins redis==2.10.6, which Celery's Redis transport (in the test environment) cannot use. It is only
ever run as its `wb-manager` and `wayback` commands, so it needs no place in our environment.

Where it comes from, the first that applies:
1. ARCHIVER_TEST_PYWB, the `bin` directory of an environment that has it (`.ci/run` makes `.venv-pywb`);
2. an environment made once in the user's cache (`~/.cache/archiver-tests/pywb`), with `python -m venv`
   and `pip install` from the package index, under a lock so that two runs make it once;
3. when it cannot be made (no package index reachable), the test is skipped, saying why.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

PYWB_ENV = "ARCHIVER_TEST_PYWB"
REQUIREMENT = "pywb>=2.8,<3"
INSTALL_DEADLINE = 900  # seconds for `pip install` (a first install downloads about 30 packages)


def _cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "archiver-tests" / "pywb"


def _make(env: Path) -> str:
    """Make the environment at `env`; "" when done, else why it could not be."""
    steps = (
        [sys.executable, "-m", "venv", "--clear", str(env)],
        [str(env / "bin" / "python"), "-m", "pip", "install", "-q", REQUIREMENT],
    )
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=INSTALL_DEADLINE)
        except subprocess.TimeoutExpired:
            return f"{' '.join(step[-2:])} did not finish in {INSTALL_DEADLINE} s"
        if done.returncode != 0:
            return f"{' '.join(step[-2:])} failed: {(done.stderr or done.stdout).strip()[-500:]}"
    return ""


@pytest.fixture(scope="session")
def pywb_bin() -> Path:
    """The `bin` directory holding pywb's `wb-manager` and `wayback`."""
    given = os.environ.get(PYWB_ENV)
    if given:
        found = Path(given)
        if not (found / "wb-manager").exists():
            pytest.fail(f"{PYWB_ENV}={given} has no wb-manager: install {REQUIREMENT!r} in that environment")
        return found
    env = _cache()
    env.parent.mkdir(parents=True, exist_ok=True)
    with (env.parent / "pywb.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run making it: wait for it (it has its own deadline)
        if not (env / ".complete").exists():
            problem = _make(env)
            if problem:
                pytest.skip(f"pywb could not be installed in {env} ({problem}); or set {PYWB_ENV}")
            (env / ".complete").write_text(REQUIREMENT)
    return env / "bin"
