"""The extraction workers: forked warm from their fork server, so that no pass pays the libraries'
start-up once per worker (issue 18)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import modules_loaded, write_sources
from simweb import LOREM, article

from archiver.config import ExtractSettings
from archiver.workers import WorkerPool


def _state() -> tuple[int, bool, int]:
    """Run in a worker: its parent, and whether the lazy start-up of the extraction's libraries is
    already paid (jusText's stop words; dateparser's compiled locale patterns)."""
    import trafilatura.external
    from dateparser.languages.dictionary import Dictionary

    compiled = sum(len(patterns) for patterns in getattr(Dictionary, "_split_regex_cache", {}).values())
    return os.getppid(), bool(trafilatura.external.JT_STOPLIST), compiled


def test_workers_are_forked_warm_from_one_server_that_outlives_their_pool():
    async def two_pools() -> list[tuple[int, bool, int]]:
        states = []
        for _ in range(2):
            with WorkerPool(ExtractSettings(workers=1, timeout=60)) as pool:
                states.append(await pool.run(_state))
        return states

    (parent1, stoplist1, compiled1), (parent2, stoplist2, compiled2) = asyncio.run(two_pools())
    assert parent1 != os.getpid() and parent1 == parent2  # the fork server, not this process, nor a new one per pool
    assert stoplist1 and stoplist2  # loaded once, before any page asked for it
    assert compiled1 > 100 and compiled2 > 100  # dateparser's locales compiled before any page asked


def test_workers_never_import_their_parents_main_module(tmp_path):
    """Multiprocessing has a worker import its parent's main module again (`archiver check` is a
    console script importing `archiver.cli`); the workers run library functions only, so they skip
    it, and neither they nor their server hold the rest of the service (14 MiB)."""
    (tmp_path / "probe.py").write_text(
        "import sys\n"
        "def loaded(modules):\n"
        "    scripts = [m for m in list(sys.modules.values()) if getattr(m, '__file__', '') == sys.argv[0]]\n"
        "    return [m for m in modules if m in sys.modules] + ['the script'] * len(scripts)\n"
    )
    script = tmp_path / "console_script.py"
    script.write_text(
        "import asyncio\n"
        "import archiver.cli  # as the console script does\n"
        "from archiver.config import ExtractSettings\n"
        "from archiver.workers import WorkerPool\n"
        "from probe import loaded\n"
        "async def main():\n"
        "    with WorkerPool(ExtractSettings(workers=1, timeout=60)) as pool:\n"
        "        return await pool.run(loaded, ('archiver.cli', 'archiver.pipeline', 'httpx'))\n"
        "if __name__ == '__main__':\n"
        "    print(' '.join(asyncio.run(main())) or '-')\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["-"]


def _in_main() -> None:
    """A function the workers cannot import by name when its module is run as a script."""


def test_a_worker_call_names_a_script_function_it_cannot_run():
    _in_main.__module__ = "__main__"  # as if defined in the script that runs the pool
    try:

        async def call() -> None:
            with WorkerPool(ExtractSettings(workers=1, timeout=60)) as pool:
                await pool.run(_in_main)

        with pytest.raises(TypeError, match="_in_main.*importable"):
            asyncio.run(call())
    finally:
        _in_main.__module__ = __name__


def _held_after(blocks: int, size: int) -> int:
    """Run in a worker: the bytes it holds more than before, once it has made `blocks` blocks of
    `size` (a large page's text, say) between smaller lasting ones (1.6 MB in all), and freed the
    blocks."""

    def resident() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    once = b"x" * size  # a block that size made and freed once, as every page's are (written: resident)
    del once
    before = resident()
    large, small = [], []
    for _ in range(blocks):
        large.append(b"x" * size)
        small.append(b"x" * 100_000)  # lasting, and in the heap between the blocks
    del large
    return resident() - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc, read in /proc")
def test_a_worker_gives_back_the_memory_of_a_large_page_once_done_with_it():
    async def held() -> int:
        with WorkerPool(ExtractSettings(workers=1, timeout=60)) as pool:
            return await pool.run(_held_after, 16, 3 * 1024 * 1024 // 2)

    assert asyncio.run(held()) < 4 * 1024 * 1024  # of the 24 MiB it made


def test_the_main_process_of_a_pass_loads_neither_the_extraction_libraries_nor_playwright(web, tmp_path):
    """The extraction runs in the workers and no page needs the browser: the process that fetches and
    stores carries neither trafilatura (with jusText, htmldate, Babel) nor Playwright (issue 18's memory)."""
    url = web.page("/world/troops", article("Troops deployed to Kursk", *LOREM))
    sources = write_sources(tmp_path / "sources.csv", [{"id": "1", "url": url}])
    script = (
        "import sys\n"
        "from archiver import Settings, run_check\n"
        "summary = run_check(Settings.load())\n"
        "assert summary.new_versions == 1, summary\n"
        "print(' '.join(sorted(m for m in ('trafilatura', 'justext', 'htmldate', 'babel', 'playwright')"
        " if m in sys.modules)) or '-')\n"
    )
    assert modules_loaded(script, tmp_path / "data", sources) == ["-"]
