"""What `skeleton.py`'s workers run: in a module of its own, importable by name, since the workers
never import the script that runs their pool (see `archiver.warmup`)."""

from __future__ import annotations

from typing import Any

from archiver.extract import decode, run_trafilatura


def quarter(body: bytes, content_type: str) -> bytes:
    """In a worker: no extraction, an answer of a pass's size back (see `messages`)."""
    return body[: len(body) // 4]


def extract_text(body: bytes, content_type: str) -> str:
    """In a worker: trafilatura's text of an answer, as the floor's calibration runs it."""
    document = run_trafilatura(decode(body, content_type))
    return str(document.text) if document is not None else ""


_client: Any = None


def fetch_and_extract(url: str, hosts: int) -> str:
    """In a worker: fetch `url` with a synchronous httpx client of its own, then extract it."""
    global _client
    import httpx

    if _client is None:
        address = {f"host{k}.bench": f"127.0.0.{k + 1}" for k in range(hosts)}
        _client = (httpx.Client(timeout=30, trust_env=False), address)
    client, address = _client
    parsed = httpx.URL(url)
    response = client.get(parsed.copy_with(host=address[parsed.host]), headers={"Host": parsed.host})
    if response.status_code != 200:
        return ""
    return extract_text(response.content, response.headers.get("content-type", ""))
