"""`pip install .` (what the Dockerfile runs) gives a working `monitor` outside the source tree.

The source is exactly what the Dockerfile copies before its `pip install .`, so a file the
build needs but the image lacks fails here, not in a Docker build nobody ran.

No network: the new venv borrows the already-installed dependencies through a .pth line that
adds the dev venv's site-packages as a plain path (its own .pth files, including the editable
install of this project, are not processed), and pip builds with --no-index.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {"PATH": "/usr/bin:/bin"}  # no PYTHONPATH, no MONITOR_* from the caller


def docker_build_sources() -> list[str]:
    """Paths the Dockerfile COPYs before it runs `pip install .`."""
    sources: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            sources += line.split()[1:-1]
        if "pip install ." in line or "pip install '.[" in line:
            return sources
    raise AssertionError("the Dockerfile never runs `pip install .`")


def copy_build_context(target: Path) -> Path:
    target.mkdir()
    for name in docker_build_sources():
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    return target


def test_pip_install_gives_a_working_monitor(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            str(copy_build_context(tmp_path / "src")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=CLEAN_ENV,
    )
    assert install.returncode == 0, install.stderr

    def monitor(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv / "bin" / "monitor"), *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            env=CLEAN_ENV,
        )

    where = subprocess.run(
        [str(python), "-c", "import monitor; print(monitor.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=CLEAN_ENV,
    )
    assert where.stdout.startswith(str(site)), "monitor must come from the installed copy"
    assert monitor("--version").stdout.startswith("monitor, version ")
    helped = monitor("config", "check", "-h")
    assert helped.returncode == 0
    assert "Example:" in helped.stdout
    # The installed command validates a feed list end to end (exit 2 and FILE:LINE on error).
    (tmp_path / "feeds.yaml").write_text("feeds:\n  - id: Bad Id\n")
    checked = monitor("--rules", "no-rules-here", "config", "check")
    assert checked.returncode == 2
    assert checked.stderr.startswith("feeds.yaml:2: feed 'Bad Id': id 'Bad Id' is not a")


def test_dockerfile_copies_only_what_exists_and_is_not_ignored() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    copied = [src for line in lines if line.startswith("COPY ") for src in line.split()[1:-1]]
    assert {"pyproject.toml", "README.md", "monitor", "feeds.yaml", "rules"} <= set(copied)
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for src in copied:
        assert (ROOT / src).exists(), f"Dockerfile copies {src}, which does not exist"
        assert src not in ignored, f".dockerignore hides {src} from the build"
    assert "USER monitor" in lines
    assert 'ENTRYPOINT ["monitor"]' in lines
    assert 'CMD ["run"]' in lines
