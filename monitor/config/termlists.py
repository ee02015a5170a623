"""rules/lists/*.yaml → TermLists, every problem reported as FILE:LINE; the file helpers the
rule loader (monitor/config/rules.py) shares.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from monitor.config.yamlsrc import (
    LineDict,
    LineList,
    load_yaml_text,
    unknown_key_problems,
)
from monitor.errors import ConfigError, Problem
from monitor.names import closest
from monitor.rules.limits import (
    MAX_LIST_FILE_BYTES,
    MAX_LIST_TERMS,
    MAX_NOT_IN,
    MAX_TERM_CHARS,
)
from monitor.rules.literals import literal_pattern
from monitor.rules.termlist import TermList, TermOptions

LIST_KEYS = ("description", "label", "include", "terms")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")


def read_capped(path: Path, cap: int, what: str, problems: list[Problem]) -> str | None:
    """The file's text, or None (and a problem) when it is larger than ``cap`` bytes: read
    at most cap + 1 bytes, so a huge file costs nothing before it is refused."""
    with path.open("rb") as fh:
        raw = fh.read(cap + 1)
    if len(raw) > cap:
        problems.append(
            Problem(
                str(path),
                0,
                f"larger than {cap // 1000:,} KB, the limit for {what}",
                "split it into several files; term lists can include each other",
            )
        )
        return None
    return raw.decode("utf-8")


def str_list(
    value: Any, filename: str, line: int, what: str, problems: list[Problem]
) -> list[tuple[str, int]]:
    """(string, line) pairs of a YAML list of strings; other shapes become problems."""
    if value is None:
        return []
    if isinstance(value, str):
        value_list: list[Any] = [value]
        lines = [line]
    elif isinstance(value, list):
        value_list = list(value)
        lines = [
            value.line_of(i) if isinstance(value, LineList) else line for i in range(len(value))
        ]
    else:
        problems.append(Problem(filename, line, f"{what} must be a list", f"e.g. {what}: [a, b]"))
        return []
    out = []
    for item, ln in zip(value_list, lines, strict=True):
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            problems.append(Problem(filename, ln, f"each entry of {what} must be text"))
        elif not str(item).strip():
            problems.append(Problem(filename, ln, f"empty entry in {what}"))
        else:
            out.append((str(item).strip(), ln))
    return out


def _read_list_file(path: Path, problems: list[Problem]) -> LineDict | None:
    """The list file's mapping, or None with the problem noted."""
    filename = str(path)
    try:
        text = read_capped(path, MAX_LIST_FILE_BYTES, "a term list", problems)
        if text is None:
            return None
        data = load_yaml_text(text, filename)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(filename, 0, f"cannot read: {exc}", "save the file as UTF-8"))
        return None
    if not isinstance(data, LineDict):
        problems.append(
            Problem(filename, 1, "a term list must be a mapping", "start with `terms:`")
        )
        return None
    return data


def _mapped_entries(
    raw_terms: Any, filename: str, options: dict[str, TermOptions], problems: list[Problem]
) -> Any:
    """``terms:`` with entries written as mappings ({term: …, not_in: …}) turned into their
    term, each one's options kept in ``options``."""
    if not isinstance(raw_terms, LineList):
        return raw_terms
    kept = LineList()
    kept.line, kept.item_lines = raw_terms.line, []
    for i, item in enumerate(raw_terms):
        if isinstance(item, LineDict):
            found = _term_entry(item, filename, raw_terms.line_of(i), problems)
            if found is None:
                continue
            item, opts = found
            options.setdefault(item, opts)
        kept.append(item)
        kept.item_lines.append(raw_terms.line_of(i))
    return kept


def _label(data: LineDict, filename: str, problems: list[Problem]) -> str:
    label = data.get("label") or ""
    if not isinstance(label, str) or len(label) > 60:
        problems.append(
            Problem(
                filename,
                data.line_of("label"),
                "label must be a short text (60 characters at most)",
                "e.g. label: Japan",
            )
        )
        return ""
    return label.strip()


def _checked_terms(
    entries: list[tuple[str, int]],
    options: dict[str, TermOptions],
    include_lines: dict[str, int],
    filename: str,
    problems: list[Problem],
) -> list[str]:
    """The terms that compile; an ``@name`` entry goes to ``include_lines`` instead."""
    terms: list[str] = []
    for entry, ln in entries:
        if len(entry) > MAX_TERM_CHARS:
            problems.append(
                Problem(
                    filename,
                    ln,
                    f"a term longer than {MAX_TERM_CHARS} characters (the limit)",
                    "a term is a word or a short phrase",
                )
            )
            continue
        if entry.startswith("@"):
            include_lines.setdefault(entry[1:], ln)
            continue
        try:
            literal_pattern(entry, options.get(entry))
        except ValueError as exc:
            problems.append(Problem(filename, ln, f"term {entry!r}: {exc}"))
            continue
        terms.append(entry)
    return terms


def load_list(path: Path, problems: list[Problem]) -> tuple[TermList, dict[str, int]] | None:
    filename = str(path)
    name = path.stem
    if not NAME_RE.match(name):
        problems.append(
            Problem(
                filename,
                0,
                f"list name {name!r} cannot be referenced as @{name}",
                "use letters, digits, - and _ in the file name",
            )
        )
        return None
    data = _read_list_file(path, problems)
    if data is None:
        return None
    problems.extend(unknown_key_problems(data, LIST_KEYS, filename, "a term list"))
    if "terms" not in data and "include" not in data:
        problems.append(Problem(filename, data.line, "a term list needs `terms:`"))
    include_lines: dict[str, int] = {}
    for entry, ln in str_list(
        data.get("include"), filename, data.line_of("include"), "include", problems
    ):
        include_lines.setdefault(entry.lstrip("@"), ln)
    options: dict[str, TermOptions] = {}
    raw_terms = _mapped_entries(data.get("terms"), filename, options, problems)
    plain = raw_terms if raw_terms is not None else []
    entries = str_list(plain or None, filename, data.line_of("terms"), "terms", problems)
    if len(entries) > MAX_LIST_TERMS:
        problems.append(
            Problem(
                filename,
                entries[MAX_LIST_TERMS][1],
                f"more than {MAX_LIST_TERMS:,} terms in one list (the limit)",
                "split it into several lists and join them with include:",
            )
        )
        return None
    terms = _checked_terms(entries, options, include_lines, filename, problems)
    description = data.get("description") or ""
    label = _label(data, filename, problems)
    kept_options = tuple((t, o) for t, o in options.items() if t in terms)
    return (
        TermList(
            name,
            tuple(terms),
            tuple(include_lines),
            str(description).strip(),
            filename,
            kept_options,
            label,
        ),
        include_lines,
    )


TERM_KEYS = ("term", "not_in", "case")


def _term_entry(
    item: LineDict, filename: str, line: int, problems: list[Problem]
) -> tuple[str, TermOptions] | None:
    """A list entry written as a mapping: ``{term: 日韓, not_in: [訪韓日程]}`` or
    ``{term: Tokyo, case: exact}``; None (with a problem) when it is malformed."""
    problems.extend(unknown_key_problems(item, TERM_KEYS, filename, "a term entry"))
    term = item.get("term")
    if not isinstance(term, str) or not term.strip():
        problems.append(
            Problem(
                filename,
                line,
                "a term entry needs `term:`",
                "e.g. {term: 日韓, not_in: [訪韓日程]}",
            )
        )
        return None
    not_in = [w for w, _ in str_list(item.get("not_in"), filename, line, "not_in", problems)]
    if len(not_in) > MAX_NOT_IN or any(len(w) > MAX_TERM_CHARS for w in not_in):
        problems.append(
            Problem(
                filename,
                line,
                f"not_in holds more than {MAX_NOT_IN} words, or one longer than"
                f" {MAX_TERM_CHARS} characters (the limit)",
                "name the few longer words the term must not be read inside",
            )
        )
        return None
    case = item.get("case")
    if case is not None and case != "exact":
        problems.append(
            Problem(
                filename, line, f"case: {case!r} is not known", "write case: exact, or leave it out"
            )
        )
        return None
    return term.strip(), TermOptions(tuple(not_in), case == "exact")


def include_problems(
    lists: dict[str, TermList], include_lines: dict[str, dict[str, int]]
) -> list[Problem]:
    problems = []
    for name, term_list in lists.items():
        for inc in term_list.includes:
            if inc not in lists:
                close = closest(inc, lists)
                hint = f"did you mean @{close}?" if close else None
                problems.append(
                    Problem(
                        term_list.path,
                        include_lines[name][inc],
                        f"unknown list @{inc}",
                        hint or "term lists are the files in rules/lists/",
                    )
                )
    # Circular includes: report each cycle once, at its first list.
    reported: set[frozenset[str]] = set()

    def walk(name: str, trail: list[str]) -> None:
        for inc in lists[name].includes:
            if inc not in lists:
                continue
            if inc in trail:
                cycle = [*trail[trail.index(inc) :], inc]
                members = frozenset(cycle)
                if members not in reported:
                    reported.add(members)
                    first = cycle[0]
                    problems.append(
                        Problem(
                            lists[first].path,
                            include_lines[first].get(cycle[1], 0),
                            "circular include: " + " → ".join(f"@{c}" for c in cycle),
                            "remove one of these includes",
                        )
                    )
                continue
            walk(inc, [*trail, inc])

    for name in sorted(lists):
        walk(name, [name])
    return problems
