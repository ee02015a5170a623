"""The archive: the only package that imports sqlite_utils.

Times are stored as ISO 8601 UTC text ``YYYY-MM-DDTHH:MM:SSZ`` (sortable as text).

What it may import, and what may import it: docs/architecture.md.
"""
