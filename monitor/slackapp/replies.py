"""The ephemeral answers to `/monitor …`, as Slack mrkdwn. Everything that came from a feed or
from the user is escaped here (monitor/digest/mrkdwn.py), so no answer can mention anyone or
carry a disguised link."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from monitor.digest.mrkdwn import escape, link, shorten
from monitor.errors import QueryError
from monitor.rules.evaluate import Explanation

MAX_REPLY = 3500  # characters; Slack shows longer messages folded, and ours stay readable
SEARCH_LIMIT = 10


def _code(text: str) -> str:
    # Inside a code span formatting is off, but < and & still need entities.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "ˋ")


def fit(text: str) -> str:
    if len(text) <= MAX_REPLY:
        return text
    return text[: MAX_REPLY - 40].rsplit("\n", 1)[0] + "\n… (cut here: use the CLI for more)"


def query_error(exc: QueryError) -> str:
    """The caret message of `monitor search`, in a code block."""
    caret = " " * max(exc.column - 1, 0) + "^"
    lines = [f"{exc.message} (column {exc.column})", f"  {exc.query}", f"  {caret}"]
    text = "That query does not parse:\n```\n" + _code("\n".join(lines)) + "\n```"
    if exc.hint:
        text += f"\nHint: {escape(exc.hint)}"
    return text


def problem(message: str, hint: str | None = None) -> str:
    text = ":warning: " + "\n".join(escape(line) for line in message.splitlines())
    return text + (f"\nHint: {escape(hint)}" if hint else "")


def search_results(query: str, found: Sequence[object], *, more: bool) -> str:
    if not found:
        return f"No archived item matches `{_code(shorten(query, 200))}`."
    lines = [
        f"*{len(found)}{'+' if more else ''} archive hits* for `{_code(shorten(query, 200))}`:"
    ]
    for f in found:
        title = link(getattr(f, "url", ""), shorten(getattr(f, "title", ""), 200) or "(untitled)")
        feed = escape(getattr(f, "feed", "") or getattr(f, "feed_id", ""))
        when = escape(str(getattr(f, "published", ""))[:10])
        rules = ", ".join(escape(r) for r in getattr(f, "rules", ()))
        tail = f" · rules: {rules}" if rules else ""
        lines.append(f"• {title} — {feed} · {when}{tail} · id `{_code(getattr(f, 'id', ''))}`")
    if more:
        lines.append("_More on the command line:_ `monitor search … --limit 100`")
    return fit("\n".join(lines))


def explanation(
    rule_id: str,
    item_id: str,
    title: str,
    matched: bool,
    score: float,
    reasons: Sequence[str],
    query: Explanation,
    exclude: Explanation | None,
) -> str:
    verdict = "matches" if matched else "does not match"
    lines = [
        f"*{escape(rule_id)}* {verdict} item `{_code(item_id)}`"
        + (f" (score {score:g})" if matched else "")
    ]
    lines.append(f"_{escape(shorten(title, 200))}_")
    lines += [f"because {escape(r)}" for r in reasons]
    tree: list[str] = []
    _tree(query, 0, tree)
    lines.append("*query*\n```\n" + _code("\n".join(tree)) + "\n```")
    if exclude is not None:
        tree = []
        _tree(exclude, 0, tree)
        lines.append("*exclude*\n```\n" + _code("\n".join(tree)) + "\n```")
    return fit("\n".join(lines))


def _tree(node: Explanation, depth: int, out: list[str]) -> None:
    if len(out) > 60:
        if out[-1] != "…":
            out.append("…")
        return
    mark = "✓" if node.value else "✗"
    line = "  " * depth + f"{mark} {shorten(node.label, 120)}"
    if node.found:
        line += "   found: " + shorten(", ".join(node.found), 120)
    out.append(line)
    for child in node.children:
        _tree(child, depth + 1, out)


def rules_table(rows: Sequence[tuple[str, str, int, int, int]]) -> str:
    """rows: (rule id, name, matches in 7 days, judged relevant, judged not relevant)."""
    if not rows:
        return "No rules are loaded."
    lines = ["*Rules* — matches in the last 7 days · precision from readers' feedback"]
    for rule_id, name, matches, good, bad in rows:
        judged = good + bad
        precision = f"{good / judged:.0%} of {judged} judged" if judged else "no feedback yet"
        label = escape(name) if name and name != rule_id else ""
        lines.append(
            f"• `{_code(rule_id)}` {label} — {matches} match{'es' if matches != 1 else ''} · {precision}"
        )
    return fit("\n".join(lines))


def status(
    failing: Sequence[tuple[str, str]],
    muted: Sequence[tuple[str, datetime, str]],
    disabled: Sequence[tuple[str, str]],
    total: int,
) -> str:
    lines = [f"*Feeds* — {total} in all"]
    if not (failing or muted or disabled):
        lines.append("All feeds are fine: none failing, muted or disabled.")
    if failing:
        lines.append(f"*Failing ({len(failing)})*")
        lines += [f"• `{_code(f)}` — {escape(shorten(err, 200))}" for f, err in failing]
    if muted:
        lines.append(f"*Muted ({len(muted)})* — kept out of digests")
        lines += [
            f"• `{_code(f)}` until {until:%Y-%m-%d %H:%M} UTC"
            + (f" (by {escape(by)})" if by else "")
            for f, until, by in muted
        ]
    if disabled:
        lines.append(f"*Disabled ({len(disabled)})*")
        lines += [f"• `{_code(f)}` — {escape(shorten(why, 200))}" for f, why in disabled]
    return fit("\n".join(lines))
