"""Benchmark: what a browser page costs, and a bound on the memory of rendering many, alone and in a pass.

    python benchmarks/browser_bench.py                    # 40 pages, pools of 1, 2 and 4, then the passes
    python benchmarks/browser_bench.py --pages 100 --pools 2 --json benchmarks/results-browser.json
    python benchmarks/browser_bench.py --pools "" --json benchmarks/results-browser-pass.json   # passes only

Starts a simulated web on 127.0.0.1 in its own process: realistic article pages of 100-200 KiB
(benchmarks/simweb.py) that also load two scripts, a stylesheet and six images, and, for one page in
four, a JavaScript application shell whose script fetches the article as JSON and writes it. Every
answer is delayed by `--latency`. Then, for each pool size, one Browser renders all pages at once
(as a pass would hand them over) while a sampler reads the proportional set size (PSS, shared pages
counted once) of this process and every descendant (Playwright's driver, Chromium and its renderers)
every 50 ms. It reports wall time and CPU seconds per page beside the HTTP fetcher's on the same
pages, and the peak memory of the tree; it exits 1 when the peak passes `--bound` MiB.

Then real passes (`run_check`, extraction workers included) over the same pages, each into a fresh
store: the browser `never`, `auto` without screenshots (only the shells are rendered), `auto` with
screenshots (every new version rendered: the default), each followed by a re-check of the unchanged
pages. It reports each pass's wall and CPU time, the cost per page against `never`, pages rendered,
screenshots stored, and the peak PSS of the whole tree; it exits 1 when a pass passes `--pass-bound`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from simweb import page_html  # noqa: E402

from archiver.browser import Browser, find_chromium  # noqa: E402
from archiver.config import Settings  # noqa: E402
from archiver.fetch import DNSFailure, Fetcher  # noqa: E402
from archiver.models import BrowserMode, FetchedBy  # noqa: E402
from archiver.pipeline import run_check  # noqa: E402
from archiver.store import Store  # noqa: E402

BOUND_MIB = 1500  # peak PSS of the whole tree with a pool of 2, for the default run
PASS_BOUND_MIB = 1500  # peak PSS of a pass with the browser (pool of 2, two extraction workers), all processes
PASSES = {
    "never": {"browser": BrowserMode.NEVER},
    "auto, no screenshots": {"browser": BrowserMode.AUTO, "screenshots": False},
    "auto, screenshots": {"browser": BrowserMode.AUTO, "screenshots": True},
}


def png(seed: int) -> bytes:
    """A small valid PNG (64x48, one colour per image)."""
    rng = random.Random(seed)
    pixel = bytes([rng.randrange(256) for _ in range(3)])
    raw = b"".join(b"\x00" + pixel * 64 for _ in range(48))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = (64).to_bytes(4, "big") + (48).to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


APP_JS = b"""
document.querySelectorAll('.ad-slot').forEach((el, i) => { if (i % 2) el.remove(); });
window.__ready = true;
"""
SHELL_JS = b"""
fetch('/api/' + document.body.dataset.story).then(r => r.json()).then(data => {
  const root = document.getElementById('root');
  root.innerHTML = '<article><h1>' + data.title + '</h1>' + data.paragraphs.map(p => '<p>' + p + '</p>').join('') + '</article>';
});
"""
STYLE = b"body{font:16px/1.5 serif;max-width:60em;margin:auto} .ad-slot{height:90px;background:#eee}"


def story(n: int) -> bytes:
    """An article page that also loads scripts, a stylesheet and images."""
    html = page_html(n).decode()
    assets = '<link rel="stylesheet" href="/static/site.css"><script src="/static/app.js" defer></script>' + "".join(
        f'<img src="/img/{n}-{k}.png" width="64" height="48">' for k in range(6)
    )
    return html.replace("</head>", assets + "</head>", 1).encode()


def shell(n: int) -> bytes:
    return (
        f'<!DOCTYPE html><html><head><title>Story {n}</title></head><body data-story="{n}"><div id="root"></div>'
        "<noscript>You need to enable JavaScript to run this app.</noscript>"
        '<script src="/static/shell.js"></script></body></html>'
    ).encode()


def api(n: int) -> bytes:
    text = page_html(n).decode()
    paragraphs = [p.split("</p>")[0] for p in text.split("<p>")[2:40]]
    return json.dumps({"title": f"Story {n}", "paragraphs": paragraphs}).encode()


def answer(path: str) -> tuple[bytes, bytes, bytes]:
    """(status, content type, body) for a path of the simulated web."""
    kind, _, rest = path.strip("/").partition("/")
    try:
        if kind == "story":
            n = int(rest)
            return b"200 OK", b"text/html; charset=utf-8", shell(n) if n % 4 == 3 else story(n)
        if kind == "api":
            return b"200 OK", b"application/json", api(int(rest))
        if kind == "img":
            return b"200 OK", b"image/png", png(hash(rest) & 0xFFFF)
        if kind == "static":
            bodies = {"app.js": APP_JS, "shell.js": SHELL_JS, "site.css": STYLE}
            types = {"app.js": b"text/javascript", "shell.js": b"text/javascript", "site.css": b"text/css"}
            return b"200 OK", types[rest], bodies[rest]
    except (ValueError, KeyError):
        pass
    return b"404 Not Found", b"text/html", b"<h1>Not found</h1>"


async def _serve(port_out, ready, latency: float) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                path = request.split(b" ", 2)[1].decode()
                await asyncio.sleep(latency)
                status, content_type, body = answer(path)
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: " + content_type + b"\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port_out.value = server.sockets[0].getsockname()[1]
    ready.set()
    async with server:
        await server.serve_forever()


def _run_web(port_out, ready, latency: float) -> None:
    asyncio.run(_serve(port_out, ready, latency))


async def resolver(host: str, port: int) -> list[str]:
    if host.endswith(".bench"):
        return ["127.0.0.1"]
    raise DNSFailure(f"{host}: not a benchmark host")


# --- measuring the process tree -------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(root: int) -> list[int]:
    tree, found, stack = _children(), [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(tree.get(pid, []))
    return found


def pss_kib(pid: int) -> int:
    try:
        for line in (Path("/proc") / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def kind_of(pid: int, me: int) -> str:
    """What a process of the tree is: ours, an extraction worker, Playwright's driver, or a Chromium
    process by its --type."""
    if pid == me:
        return "python"
    try:
        # Chromium's helpers rewrite their command line as one string: split on spaces too
        cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").split()
    except OSError:
        return "gone"
    if not cmd:
        return "gone"
    if b"node" in cmd[0]:
        return "driver"
    if b"python" in cmd[0]:
        return "worker"  # a pass's extraction workers
    kind = next((a.split(b"=", 1)[1].decode() for a in cmd if a.startswith(b"--type=")), "browser")
    sub = next((a.split(b"=", 1)[1].decode() for a in cmd if a.startswith(b"--utility-sub-type=")), "")
    return f"{kind}:{sub.split('.')[0]}" if sub else kind


def cpu_seconds(pid: int) -> float:
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sampler:
    """Samples the PSS of this process's tree, and the CPU time of every process it ever held."""

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.peak_kib = 0
        self.peak_processes = 0
        self.peak_by_kind: dict[str, int] = {}  # KiB of each kind of process at the peak
        self.cpu: dict[int, float] = {}
        self.kinds: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            pids = descendants(me)
            sizes = {pid: pss_kib(pid) for pid in pids}
            for pid in pids:
                self.kinds.setdefault(pid, kind_of(pid, me))
                if pid != me:
                    self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu_seconds(pid))
            if sum(sizes.values()) > self.peak_kib:
                self.peak_kib, self.peak_processes = sum(sizes.values()), len(pids)
                self.peak_by_kind = {}
                for pid, size in sizes.items():
                    self.peak_by_kind[self.kinds[pid]] = self.peak_by_kind.get(self.kinds[pid], 0) + size
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def render_all(settings: Settings, urls: list[str]) -> tuple[float, int, float]:
    """Render every URL through one Browser; (seconds, pages rendered, our own CPU seconds)."""
    cpu0, t0 = own_cpu(), time.perf_counter()
    async with Browser(settings.browser_settings, resolver=resolver) as browser:
        renderings = await asyncio.gather(*(browser.render(u) for u in urls))
    failed = [r for r in renderings if not r.rendered]
    if failed:
        print(f"  {len(failed)} page(s) not rendered, e.g. {failed[0].url}: {failed[0].error}", file=sys.stderr)
    return time.perf_counter() - t0, len(renderings) - len(failed), own_cpu() - cpu0


async def fetch_all(settings: Settings, urls: list[str]) -> float:
    t0 = time.perf_counter()
    async with Fetcher(settings.fetch_settings, resolver=resolver) as fetcher:
        await asyncio.gather(*(fetcher.fetch(u) for u in urls))
    return time.perf_counter() - t0


def run_passes(base: Settings, urls: list[str], work: Path, bound: float) -> tuple[list[dict[str, object]], bool]:
    """A first pass and a re-check for each browser setting of PASSES, each into a fresh store."""
    sources = work / "sources.csv"
    sources.write_text("id,url\n" + "".join(f"{n},{u}\n" for n, u in enumerate(urls, 1)), "utf-8")
    rows: list[dict[str, object]] = []
    over = False
    print(
        "pass                              | wall s | CPU s | s/page over never | by browser | screenshots | peak PSS MiB"
    )
    floor: dict[str, float] = {}
    for label, changes in PASSES.items():
        settings = base.with_(data_dir=work / label.replace(", ", "-"), sources=sources, **changes)
        for run in ("first", "re-check"):
            cpu0, t0 = own_cpu(), time.perf_counter()
            with Sampler() as sampler:
                run_check(settings, resolver=resolver)
            seconds = time.perf_counter() - t0
            cpu = own_cpu() - cpu0 + sum(sampler.cpu.values())
            with Store.open(settings.data_dir) as store:
                last = [store.latest_check(str(n)) for n in range(1, len(urls) + 1)]
                rendered = sum(1 for c in last if c is not None and c.fetched_by == FetchedBy.BROWSER)
            shots = sum(1 for _ in (settings.data_dir / "shots").rglob("*.png"))
            peak = sampler.peak_kib / 1024
            floor.setdefault(run, seconds)  # `never` comes first
            extra = (seconds - floor[run]) / len(urls)
            print(
                f"{label + ' (' + run + ')':33} | {seconds:6.1f} | {cpu:5.1f} | {extra:17.2f} | {rendered:10} | "
                f"{shots:11} | {peak:6.0f} ({sampler.peak_processes})"
            )
            rows.append(
                {
                    "pass": label,
                    "run": run,
                    "seconds": round(seconds, 2),
                    "cpu_seconds": round(cpu, 2),
                    "seconds_per_page_over_never": round(extra, 3),
                    "rendered_by_browser": rendered,
                    "screenshots": shots,
                    "peak_pss_mib": round(peak, 1),
                    "peak_processes": sampler.peak_processes,
                    "peak_mib_by_process": {k: round(v / 1024, 1) for k, v in sampler.peak_by_kind.items()},
                }
            )
            if peak > bound:
                over = True
                print(f"peak {peak:.0f} MiB of pass {label!r} is over the bound of {bound:.0f} MiB", file=sys.stderr)
    return rows, over


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--pools", default="1,2,4", help="pool sizes to measure (ARCHIVER_BROWSER_PAGES)")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds before each answer")
    parser.add_argument("--bound", type=float, default=BOUND_MIB, help="MiB the peak may reach with a pool of 2")
    parser.add_argument("--pass-bound", type=float, default=PASS_BOUND_MIB, help="MiB a pass's peak may reach")
    parser.add_argument("--no-passes", action="store_true", help="measure the renderings only, no pass")
    parser.add_argument("--workers", type=int, default=2, help="extraction workers of the passes")
    parser.add_argument("--chromium", default="", help="the Chromium executable (default: chromium on PATH)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    base = Settings.load(environ={"ARCHIVER_ALLOW_PRIVATE": "127.0.0.1/32"}, total_timeout=60.0, chromium=args.chromium)
    if find_chromium(base) is None:
        print("no Chromium found: install Debian's chromium or set ARCHIVER_CHROMIUM", file=sys.stderr)
        return 2
    ctx = multiprocessing.get_context("spawn")
    port, ready = ctx.Value("i", 0), ctx.Event()
    web = ctx.Process(target=_run_web, args=(port, ready, args.latency), daemon=True)
    web.start()
    ready.wait(60)
    urls = [f"http://host{n % 8}.bench:{port.value}/story/{n}" for n in range(args.pages)]
    results: dict[str, object] = {
        "pages": args.pages,
        "latency": args.latency,
        "chromium": find_chromium(base),
        "runs": [],
    }
    try:
        http_seconds = asyncio.run(fetch_all(base, urls))
        results["http_seconds_per_page"] = http_seconds / args.pages
        print(
            f"HTTP fetcher: {http_seconds:.2f} s for {args.pages} pages ({http_seconds / args.pages * 1000:.0f} ms/page)"
        )
        print("pool | wall s | s/page | CPU s/page (all processes) | peak PSS MiB (processes) | rendered")
        over = False
        for pool in [int(p) for p in args.pools.split(",") if p]:
            with Sampler() as sampler:
                seconds, rendered, mine = asyncio.run(render_all(base.with_(browser_pages=pool), urls))
            cpu = mine + sum(sampler.cpu.values())
            peak = sampler.peak_kib / 1024
            print(
                f"{pool:4} | {seconds:6.1f} | {seconds / args.pages:6.2f} | {cpu / args.pages:26.2f} | "
                f"{peak:13.0f} ({sampler.peak_processes:2}) | {rendered}/{args.pages}"
            )
            by_kind = sorted(sampler.peak_by_kind.items(), key=lambda kv: -kv[1])
            cpu_by_kind: dict[str, float] = {"python": mine}
            for pid, seconds_used in sampler.cpu.items():
                cpu_by_kind[sampler.kinds.get(pid, "gone")] = (
                    cpu_by_kind.get(sampler.kinds.get(pid, "gone"), 0) + seconds_used
                )
            print("       peak MiB by process: " + ", ".join(f"{k} {v / 1024:.0f}" for k, v in by_kind))
            print(
                "       CPU s/page by process: "
                + ", ".join(f"{k} {v / args.pages:.2f}" for k, v in sorted(cpu_by_kind.items(), key=lambda kv: -kv[1]))
            )
            results["runs"].append(  # type: ignore[attr-defined]
                {
                    "pool": pool,
                    "seconds": round(seconds, 2),
                    "seconds_per_page": round(seconds / args.pages, 3),
                    "cpu_seconds_per_page": round(cpu / args.pages, 3),
                    "peak_pss_mib": round(peak, 1),
                    "peak_processes": sampler.peak_processes,
                    "peak_mib_by_process": {k: round(v / 1024, 1) for k, v in by_kind},
                    "cpu_seconds_per_page_by_process": {k: round(v / args.pages, 3) for k, v in cpu_by_kind.items()},
                    "rendered": rendered,
                }
            )
            if pool == 2 and peak > args.bound:
                over = True
                print(
                    f"peak {peak:.0f} MiB with a pool of 2 is over the bound of {args.bound:.0f} MiB", file=sys.stderr
                )
        if not args.no_passes:
            with tempfile.TemporaryDirectory(prefix="browser-bench-") as work:
                passes = base.with_(wayback=False, memento_endpoints=(), workers=args.workers, browser_pages=2)
                results["passes"], pass_over = run_passes(passes, urls, Path(work), args.pass_bound)
                results["pass_bound_mib"] = args.pass_bound
                over = over or pass_over
    finally:
        web.terminate()
        web.join(5)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
