"""Decompression with a size cap: gzip and deflate decoded by us, never past the cap.

httpx would decompress a whole body before we could count it; decoding the raw bytes
here, a piece at a time, keeps a feed's ``max_bytes`` true for a gzip bomb.
"""

from __future__ import annotations

import zlib

from monitor.errors import FetchError, FetchKind


class Inflater:
    """Incremental gzip/deflate decoding that never produces more than asked for."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
        self._z = zlib.decompressobj(wbits)
        self._first = True
        self._fed = False

    def feed(self, data: bytes, room: int) -> list[bytes]:
        out: list[bytes] = []
        produced = 0
        self._fed = self._fed or bool(data)
        while data:
            try:
                piece = self._z.decompress(data, max(0, room - produced) + 1)
            except zlib.error:
                if self._first and self.encoding == "deflate":
                    # Some servers send raw deflate without the zlib header.
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._first = False
                    continue
                raise FetchError(FetchKind.DECODE, f"the {self.encoding} body is corrupt") from None
            self._first = False
            out.append(piece)
            produced += len(piece)
            if produced > room:
                break  # the caller sees the overflow and stops
            data = self._z.unconsumed_tail
        return out

    def finish(self) -> bytes:
        if self._fed and not self._z.eof:
            raise FetchError(
                FetchKind.DECODE, f"the {self.encoding} body ended before its end marker"
            )
        return self._z.flush()


def decoder_for(header: str) -> Inflater | None:
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise FetchError(
            FetchKind.DECODE,
            f"the server stacked compressions ({', '.join(codings)}); refusing the body",
        )
    coding = {"x-gzip": "gzip"}.get(codings[0], codings[0])
    if coding not in ("gzip", "deflate"):
        raise FetchError(
            FetchKind.DECODE, f"the server used {coding} compression, which we did not ask for"
        )
    return Inflater(coding)


def size_words(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:g} MB"
    if n >= 1_000:
        return f"{n / 1_000:g} KB"
    return f"{n} bytes"
