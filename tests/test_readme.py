"""Every shell command in README.md's ```sh blocks runs as written, in README order.

The walker is generic: a command added to the README later is run too. It runs in a copy
of the repository (git's tracked and untracked-but-not-ignored files) whose `.venv` is a
link to this checkout's, so `make …` and `. .venv/bin/activate` work as a reader's would
and `data/` is the copy's own. The environment stands in for the world, never the command:

- `feeds.yaml` in the copy points every shipped feed at a feed server on 127.0.0.1 that
  serves the repository's test feeds (no traffic beyond loopback);
- Slack is `tests/fakeslack.py`, reached through `SLACK_API_URL`; the README's token
  placeholder is replaced with the fake's token;
- `export NAME=…` and `. .venv/bin/activate` carry over to later commands, as in a shell;
- long-running commands (`make run`, `monitor run`, `monitor serve`, `--keep-serving`)
  run until they are up (they print how to stop them, "Ctrl-C"; a server's URL on that line
  must answer HTTP), then the monitor process gets SIGTERM and must exit 0;
- placeholders (`ITEM_ID`) are filled from real output of the archive the command reads.

Skipped, each for a reason given in SKIP: `make test` (this suite), `docker …`
(tests/test_dockerfile.py runs the Dockerfile's steps). Each command must exit with 0 (or
the code its README comment gives as "exit N") and print no traceback.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.fakeslack import FakeSlack
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FEEDS = ROOT / "tests" / "data" / "feeds"

SKIP = {
    r"^make test\b": "the test suite itself",
    r"^docker\b": "no Docker daemon here: tests/test_dockerfile.py runs the Dockerfile's steps",
}
LONG_RUNNING = re.compile(r"^make (run|serve)\b|\bmonitor\b.*\s(run|serve)\b|--keep-serving")
STATE = re.compile(r"^(export \w+=|\. |source )")
LOOPBACK_URL = re.compile(r"http://127\.0\.0\.1:([1-9]\d*)")
ITEM_ID = re.compile(r'"(?:item_)?id": "([0-9a-f]{16})"')
COMMAND_TIMEOUT = 90  # seconds: a hang fails the test instead of blocking the suite
UP_TIMEOUT = 30  # seconds a long-running command may take to come up


@dataclass(frozen=True)
class Command:
    line: int  # 1-based line in README.md
    text: str  # the command, without its trailing comment
    comment: str

    @property
    def expected_exit(self) -> int:
        found = re.search(r"\bexits? (?:code |with )?(\d)\b", self.comment)
        return int(found.group(1)) if found else 0


def split_comment(line: str) -> tuple[str, str]:
    """A shell line's command and its trailing `# comment` (a # outside quotes, after a
    space or at the start)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def sh_commands(markdown: str) -> list[Command]:
    """Every command in the ```sh blocks, with backslash continuations joined."""
    commands: list[Command] = []
    in_block = False
    pending, start = "", 0
    for number, raw in enumerate(markdown.splitlines(), 1):
        fence = raw.strip()
        if fence.startswith("```"):
            in_block = fence in {"```sh", "```bash", "```shell"} if not in_block else False
            continue
        if not in_block:
            continue
        text, comment = split_comment(raw)
        if not pending:
            start = number
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        text = (pending + text).strip()
        pending = ""
        if text:
            commands.append(Command(start, text, comment))
    return commands


def skip_reason(command: Command) -> str | None:
    for pattern, reason in SKIP.items():
        if re.search(pattern, command.text):
            return reason
    return None


# --- the world the commands run in ----------------------------------------------------------------


def copy_repository(target: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not name.startswith(".venv/"):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")
    # make compares the install stamp with pyproject.toml: keep the copy's older, so `make`
    # uses the linked .venv instead of reinstalling into it.
    os.utime(target / "pyproject.toml", (0, 0))
    return target


def point_feeds_at(server: FeedServer, feeds_yaml: Path) -> None:
    """Every shipped feed, same id, kind and schedule, served from a repository test feed."""
    files = sorted(p for p in FEEDS.iterdir() if p.is_file())
    config = yaml.safe_load(feeds_yaml.read_text(encoding="utf-8"))
    for i, feed in enumerate(config["feeds"]):
        body = files[i % len(files)].read_bytes()
        server.add_file(f"/{feed['id']}", body)
        feed["url"] = server.url(f"/{feed['id']}")
    feeds_yaml.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


@dataclass
class Shell:
    """Runs README commands one by one in `cwd`, carrying exports and activation along."""

    cwd: Path
    env: dict[str, str]
    placeholders: dict[str, str]
    state: list[str]
    item_ids: dict[str, str] = field(default_factory=dict)  # archive -> an id found in it

    def script(self, text: str) -> str:
        return "; ".join([*self.state, text])

    def fill(self, command: Command) -> str:
        text = command.text
        if "ITEM_ID" in text:
            text = text.replace("ITEM_ID", self.item_id(text))
        for placeholder, value in self.placeholders.items():
            text = text.replace(placeholder, value)
        assert "…" not in text, f"README.md:{command.line}: unknown placeholder in {text!r}"
        return text

    def item_id(self, text: str) -> str:
        """An id from the output of `monitor export` on the archive the command reads."""
        words = shlex.split(text)
        db = words[words.index("--db") + 1] if "--db" in words else "data/monitor.db"
        if db in self.item_ids:
            return self.item_ids[db]
        out = self.run(f".venv/bin/monitor --db {shlex.quote(db)} export --format ndjson")
        found = ITEM_ID.search(out.stdout)
        assert found, f"no item id in the output of `monitor export` on {db}: {out.stdout!r}"
        self.item_ids[db] = found.group(1)
        return self.item_ids[db]

    def run(self, text: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", self.script(text)],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )

    def run_until_up(self, text: str, tmp: Path) -> tuple[int, str]:
        """Start a long-running command, wait until it is up, SIGTERM the monitor in it."""
        log = tmp / "long-running.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                ["bash", "-c", self.script(text)],
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        try:
            up = wait_until_up(proc, log)
            target = monitor_process(proc.pid)
            assert up, f"{text!r} did not come up:\n{log.read_text()}"
            assert target is not None, f"{text!r} did not come up:\n{log.read_text()}"
            os.kill(target, signal.SIGTERM)
            code = proc.wait(timeout=COMMAND_TIMEOUT)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        return code, log.read_text(errors="replace")


def wait_until_up(proc: subprocess.Popen[str], log: Path) -> bool:
    """Up: the monitor has said how to stop it ("Ctrl-C"), and when that line names a
    loopback URL, the URL answers HTTP. False when it exits first."""
    deadline = time.monotonic() + UP_TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        said = [line for line in log.read_text(errors="replace").splitlines() if "Ctrl-C" in line]
        urls = LOOPBACK_URL.findall(said[-1]) if said else []
        if said and not urls:
            return True
        if urls:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{urls[-1]}/", timeout=5):
                    return True
            except urllib.error.HTTPError:
                return True  # an answer, if not a page
            except OSError:
                pass  # not listening yet
        time.sleep(0.2)
    return False


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc/*/stat: not every kernel has
    /proc/PID/task/TID/children)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def monitor_process(root: int) -> int | None:
    """The outermost Python process below ``root`` (the shell, or make): the monitor.
    Its own worker processes are below it and get the signal from it, not from us."""
    queue = [root]  # bash runs the last command of `-c` in its own process
    while queue:
        pid = queue.pop(0)
        try:
            argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if os.path.basename(argv0).startswith(b"python"):
            return pid
        queue += children(pid)
    return None


@pytest.fixture
def world(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Shell]:
    if not (ROOT / ".venv" / "bin" / "monitor").exists():
        pytest.skip("needs this checkout's .venv (make venv)")
    repo = copy_repository(tmp_path / "repo")
    # A reader's shell: none of the caller's monitor or Slack settings, and not inside a make
    # (under `make test` MAKEFLAGS would make the README's `make run` a sub-make).
    drop = ("MONITOR_", "SLACK_", "MAKE", "MFLAGS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.pop("VIRTUAL_ENV", None)
    env.update(SLACK_API_URL=fake_slack.api_url, COLUMNS="120", PYTHONDONTWRITEBYTECODE="1")
    placeholders = {"xoxb-…": fake_slack.token, "xapp-…": fake_slack.app_token}
    with FeedServer() as server:
        point_feeds_at(server, repo / "feeds.yaml")
        yield Shell(repo, env, placeholders, [])


# --- tests -----------------------------------------------------------------------------------------


def test_sh_commands_reads_blocks_comments_and_continuations() -> None:
    text = (
        "```sh\nmonitor a '# not a comment'   # exits 2 when bad\n\n"
        "docker run \\\n  -v x:/data img\n```\n"
        "```yaml\nnot: a command\n```\n```\n# prose block\n```\n"
    )
    assert sh_commands(text) == [
        Command(2, "monitor a '# not a comment'", "exits 2 when bad"),
        Command(4, "docker run    -v x:/data img", ""),
    ]
    assert sh_commands(text)[0].expected_exit == 2


def test_the_match_glob_in_the_readme_covers_every_test_feed() -> None:
    [match] = [c for c in sh_commands(README.read_text()) if c.text.startswith("monitor match ")]
    named = {Path(p).name for w in shlex.split(match.text)[2:] for p in glob.glob(w, root_dir=ROOT)}
    assert named == {p.name for p in FEEDS.iterdir()}


@pytest.mark.slow
def test_every_readme_command_runs_as_written(world: Shell, tmp_path: Path) -> None:
    commands = sh_commands(README.read_text(encoding="utf-8"))
    assert len(commands) >= 20, "the README lost its commands, or the walker cannot read them"
    ran: list[str] = []
    for command in commands:
        where = f"README.md:{command.line}: {command.text}"
        if skip_reason(command):
            continue
        text = world.fill(command)
        started = time.monotonic()
        if LONG_RUNNING.search(text):
            code, output = world.run_until_up(text, tmp_path)
        else:
            done = world.run(text)
            code, output = done.returncode, done.stdout + done.stderr
        assert code == command.expected_exit, f"{where}\nexit {code}\n{output}"
        assert "Traceback" not in output, f"{where}\n{output}"
        if STATE.search(command.text):
            world.state.append(text)
        ran.append(text)
        print(f"{time.monotonic() - started:5.1f}s  {where}")  # shown with -s, or on failure
    # The demo archive the Archive section reads was built by the README's own `make demo`.
    assert (world.cwd / "data" / "demo.db").is_file()
    assert any("search" in r for r in ran)
    assert any(r.startswith("make demo") for r in ran)
