"""Orchestration: polling, the parser processes, full text, delivery and `monitor run`'s jobs.

The steps it orders live elsewhere (monitor.reader, monitor.rules, monitor.store,
monitor.digest, monitor.deliver); this package knows their order. Import from the
submodules; docs/architecture.md describes the flow and what each package may import.
"""
