"""A real `archiver worker` process for the distributed tests: the same `run_worker` the command runs,
its settings from the environment, with the tests' resolver (every `*.test` name is 127.0.0.1), since
the simulated web's hosts have no DNS. Usage: python tests/dist_worker.py NAME"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import loopback_resolver  # noqa: E402

from archiver.config import Settings  # noqa: E402
from archiver.distributed.queue import run_worker  # noqa: E402

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_worker(Settings.load(environ=os.environ), sys.argv[1], resolver=loopback_resolver)
