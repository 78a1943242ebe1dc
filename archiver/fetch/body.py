"""Reading a response body within the cap, counted after decompression: a gzip bomb or an endless
stream stops at the cap, never in memory past it."""

from __future__ import annotations

import zlib

import httpx


class TooLarge(Exception):
    """The body passed the cap."""


class UnsupportedEncoding(Exception):
    """The body is compressed in a way we do not read (`Content-Encoding: br`, say)."""


class Inflater:
    """Decompresses a body chunk by chunk and never produces more than `limit` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._raw_deflate = False
        enc = encoding.strip().lower()
        self._d: zlib._Decompress | None
        if enc in {"", "identity"}:
            self._d = None
        elif enc in {"gzip", "x-gzip"}:
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            self._d = zlib.decompressobj()
        else:
            raise UnsupportedEncoding(f"unsupported content-encoding {encoding!r}")

    def feed(self, data: bytes) -> bytes:
        room = self.limit - self.size
        if self._d is None:
            out = data
        else:
            try:
                out = self._d.decompress(data, room + 1)
            except zlib.error:
                if self.size or self._raw_deflate or self._d.unused_data:
                    raise
                # some servers send raw deflate without the zlib header
                self._raw_deflate = True
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._d.decompress(data, room + 1)
            if self._d.unconsumed_tail:
                raise TooLarge
        self.size += len(out)
        if self.size > self.limit:
            raise TooLarge
        return out


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """The body of a streamed response, decoded, at most `limit` bytes (TooLarge past it)."""
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "")
    if declared.isdigit() and not encoding and int(declared) > limit:
        raise TooLarge
    inflater = Inflater(encoding, limit)
    return b"".join([inflater.feed(chunk) async for chunk in response.aiter_raw()])
