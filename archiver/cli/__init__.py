"""The command line: a thin layer over the library, one library call per command, and the only code
that prints or exits.

- `app`      the `archiver` group (each command's module loaded on first use), its global options,
             logging, errors as exit statuses
- `watch`    `check`, `daemon`, `archive`: the commands that write the store
- `read`     `report`, `lookup`, `export`, `verify`, `serve`: the commands that only read it
- `article`  `import`, `annotate`
- `review`   `review`: an editor's decision on a citation
- `scale`    `migrate-store`, `worker`, `status`: past one machine
"""

from archiver.cli.app import cli, main

__all__ = ["cli", "main"]
