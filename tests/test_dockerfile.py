"""The Dockerfile's own steps, run as the image would run them (no Docker daemon here).

The test reads the Dockerfile and does what it says, so the two cannot drift apart:
ENV, WORKDIR, COPY and RUN in order, into a stand-in for the image's filesystem (a private
directory: the image's `/app` and `/data` become `<fs>/app` and `<fs>/data`, in the RUN
commands and the ENV values alike); a fresh venv stands in for the image's Python, and its
`pip install` runs exactly as written. Then, as the image's non-root USER (its stand-in is
`nobody` when this runs as root, since a test must not add accounts to the host), with the
image's ENV: ENTRYPOINT + `config check`, `demo` (which must write under /data, not in the
read-only /app), the HEALTHCHECK command on the archive the demo made, and `serve`, which
must answer HTTP on 127.0.0.1.

What differs from a Docker build, and why it does not change what gets installed:
- PIP_NO_CACHE_DIR is dropped: it keeps the image small; here pip may reuse this machine's
  wheel cache, which is what makes the install take seconds instead of minutes. This
  machine's other PIP_* settings (where its registry mirror is) are kept.
- `useradd` is not run (the stand-in user exists already), and `chown` gives to the stand-in.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
STAND_IN = "nobody"
INSTALL_TIMEOUT = 600  # seconds; pip resolves against the registry
RUN_TIMEOUT = 120


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    steps: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        steps.append((word.upper(), rest.strip()))
    return steps


def env_pairs(arguments: str) -> dict[str, str]:
    words = shlex.split(arguments)
    if "=" not in words[0]:  # the old `ENV KEY value` form
        return {words[0]: arguments.split(None, 1)[1]}
    return dict(w.split("=", 1) for w in words)


@dataclass
class Image:
    """The stand-in image after the build steps: paths, ENV, USER, ENTRYPOINT and friends."""

    fs: Path
    venv: Path
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str = "root"
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    tops: set[str] = field(default_factory=set)  # the image's own top-level folders
    ran: list[str] = field(default_factory=list)  # the RUN commands as executed

    def host(self, path: str) -> Path:
        return self.fs / path.lstrip("/")

    def map(self, text: str) -> str:
        """The image's absolute paths (/app, /data, …) in text, as stand-in paths."""
        if not self.tops:
            return text
        tops = "|".join(map(re.escape, sorted(self.tops)))
        return re.sub(rf"(?<![\w./-])/({tops})(?=/|\b|$)", rf"{self.fs}/\1", text)

    def note_paths(self, *paths: str) -> None:
        for p in paths:
            if p.startswith("/") and p.strip("/"):
                self.tops.add(p.strip("/").split("/")[0])


def build(image: Image, steps: list[tuple[str, str]], python: str) -> list[str]:
    """Run the build steps; returns the RUN commands as executed (for failure messages)."""
    for word, args in steps:
        if word == "WORKDIR":
            image.workdir = args
        elif word == "VOLUME":
            image.note_paths(*(json.loads(args) if args.startswith("[") else args.split()))
        elif word == "ENV":
            pairs = env_pairs(args)
            image.note_paths(*pairs.values())
            image.env.update(pairs)
    image.note_paths(image.workdir)
    image.workdir = "/"
    image.host("/").mkdir(parents=True, exist_ok=True)
    subprocess.run([python, "-m", "venv", str(image.venv)], check=True, timeout=RUN_TIMEOUT)
    ran: list[str] = []
    for word, args in steps:
        if word == "ENV":
            image.env.update(env_pairs(args))
        elif word == "WORKDIR":
            image.workdir = args
            image.host(args).mkdir(parents=True, exist_ok=True)
        elif word == "COPY":
            copy_step(image, args)
        elif word == "USER":
            image.user = args
        elif word == "ENTRYPOINT":
            image.entrypoint = json.loads(args)
        elif word == "CMD":
            image.cmd = json.loads(args)
        elif word == "HEALTHCHECK":
            image.healthcheck = json.loads(args.split(" CMD ", 1)[1])
        elif word == "RUN":
            ran.append(run_step(image, args))
    return ran


def copy_step(image: Image, args: str) -> None:
    """One COPY from the repository into the image's tree."""
    *sources, dest = shlex.split(args)
    target = image.host(dest if dest.startswith("/") else f"{image.workdir}/{dest}")
    for source in sources:
        src = ROOT / source
        into = target / src.name if dest.endswith("/") else target
        if src.is_dir():
            shutil.copytree(src, into, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            into.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, into)


def run_step(image: Image, command: str) -> str:
    """One RUN, as root, like the build; see the module docstring for what differs."""
    if re.search(r"\b(useradd|adduser|groupadd)\b", command):
        return f"(not run: {STAND_IN} stands in for the image's user) {command}"
    stand_in = pwd.getpwnam(STAND_IN)
    command = re.sub(
        r"\bchown (\S+)",
        lambda m: f"chown {stand_in.pw_uid}:{stand_in.pw_gid}" if os.geteuid() == 0 else "true",
        command,
    )
    command = image.map(command)
    env = build_env(image)
    env.pop("PIP_NO_CACHE_DIR", None)
    done = subprocess.run(
        ["sh", "-c", command],
        cwd=image.host(image.workdir),
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    assert done.returncode == 0, f"RUN {command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return command


def build_env(image: Image) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}  # the registry mirror
    env.update(PATH=f"{image.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", HOME="/root")
    env.update({k: image.map(v) for k, v in image.env.items()})
    return env


def as_user(image: Image) -> list[str]:
    """The command prefix that runs as the image's non-root user (or its stand-in)."""
    if os.geteuid() != 0:
        return []  # already not root
    user = pwd.getpwnam(STAND_IN)
    return [
        "setpriv",
        f"--reuid={user.pw_uid}",
        f"--regid={user.pw_gid}",
        "--clear-groups",
        "--",
    ]


@pytest.fixture(scope="module")
def image() -> Iterator[Image]:
    steps = instructions(DOCKERFILE.read_text())
    base = next(args for word, args in steps if word == "FROM")
    version = re.search(r"python:(\d+\.\d+)", base)
    assert version, f"the test knows python base images only, not {base}"
    # Where the image has its Python: an interpreter any user may run (one under /root, as a
    # pyenv's, is out of reach of the stand-in user and its worker processes).
    python = shutil.which(f"python{version.group(1)}", path="/usr/local/bin:/usr/bin:/bin")
    if python is None and f"{sys.version_info.major}.{sys.version_info.minor}" == version[1]:
        python = sys.executable
    if python is None:
        pytest.skip(f"needs Python {version.group(1)}, as the image's base {base}")
    top = Path(tempfile.mkdtemp(prefix="dockerfile-"))
    top.chmod(0o755)  # the stand-in user must reach the venv and the image's folders
    try:
        built = Image(fs=top / "fs", venv=top / "venv")
        built.ran = build(built, steps, python)
        home = built.host(f"/home/{built.user}")  # useradd --create-home made it in the image
        home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            stand_in = pwd.getpwnam(STAND_IN)
            os.chown(home, stand_in.pw_uid, stand_in.pw_gid)
        else:  # the image's /app belongs to root: not writable at run time
            for path in [built.host(built.workdir), *built.host(built.workdir).rglob("*")]:
                path.chmod(path.stat().st_mode & ~0o222)
        yield built
    finally:
        if os.geteuid() != 0:  # give /app back its write permission, so it can be removed
            for path in (top / "fs").rglob("*"):
                if path.is_dir() and not path.is_symlink():
                    path.chmod(0o755)
        shutil.rmtree(top, ignore_errors=True)


def run_as_image(image: Image, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    home = image.host(f"/home/{image.user}")
    return subprocess.run(
        [*as_user(image), *args],
        cwd=image.host(image.workdir),
        env=build_env(image) | {"HOME": str(home)} | env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dockerfile_steps_parse() -> None:
    steps = instructions("FROM x\n# c\nRUN a \\\n  && b\nENV A=1 \\\n    B='two words'\n")
    assert steps == [("FROM", "x"), ("RUN", "a  && b"), ("ENV", "A=1  B='two words'")]
    assert env_pairs(steps[2][1]) == {"A": "1", "B": "two words"}
    assert env_pairs("OLD value with spaces") == {"OLD": "value with spaces"}


@pytest.mark.slow
def test_the_image_runs_as_its_user_with_the_archive_in_data(image: Image) -> None:
    assert image.user != "root", "the image must run as a non-root user"
    assert image.entrypoint
    assert image.cmd == ["run"]
    db = Path(build_env(image)["MONITOR_DB"])
    assert db.parent == image.host("/data"), "the archive lives in the /data volume"
    assert (image.venv / "bin" / "monitor").exists(), "pip install put `monitor` on PATH"
    checked = run_as_image(image, *image.entrypoint, "config", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.slow
def test_demo_in_the_image_writes_under_data(image: Image) -> None:
    demo = run_as_image(image, *image.entrypoint, "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Traceback" not in demo.stdout + demo.stderr
    demo_db = image.host("/data") / "demo.db"
    assert demo_db.is_file()
    assert f"The archive is in {demo_db}" in demo.stdout
    # The image's HEALTHCHECK, on the archive the demo just polled: healthy.
    healthy = run_as_image(image, *image.healthcheck, MONITOR_DB=str(demo_db))
    assert healthy.returncode == 0, healthy.stderr


@pytest.mark.slow
def test_serve_in_the_image_answers_http(image: Image) -> None:
    db = Path(build_env(image)["MONITOR_DB"])
    if not db.exists():  # the archive `monitor run` would have made: the demo's will do
        made = run_as_image(image, *image.entrypoint, "demo", "--db", str(db))
        assert made.returncode == 0, made.stdout + made.stderr
    port = free_port()
    home = image.host(f"/home/{image.user}")
    proc = subprocess.Popen(
        [*as_user(image), *image.entrypoint, "serve", "--port", str(port)],
        cwd=image.host(image.workdir),
        env=build_env(image) | {"HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        status, deadline = 0, time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and status != 200:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    status = answer.status
            except OSError:
                time.sleep(0.2)  # not listening yet
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert status == 200, output
    assert "Datasette is not installed" not in output
