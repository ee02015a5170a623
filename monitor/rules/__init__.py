"""The query language and rule matching: pure, no I/O.

Text to tree (``parser``), tree to evaluators (``compile``), all rules at once
(``matcher``), and the meaning written plainly for tests (``reference``). docs/architecture.md
("Adding an operator") maps the modules and lists where a new operator goes.
"""
