"""Schema migrations, applied in the order they are registered. Append new steps at the end
of ``since_0500``; never edit a step once it has shipped.

FTS is external-content FTS5 kept in step by triggers written here (not sqlite-utils'
``enable_fts``), and items are never written with ``INSERT OR REPLACE``: REPLACE deletes
without firing the delete trigger and would corrupt the index.
"""

# Each module registers its steps on import, and sqlite-utils applies them in registration
# order (not by name): before_0500 is imported first, so its steps come first.
from monitor.store.migrations import before_0500, since_0500  # noqa: F401
from monitor.store.migrations.registry import migrations

__all__ = ["migrations"]
