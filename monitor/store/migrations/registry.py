"""The archive's one list of schema migrations (sqlite-utils ``Migrations``), which the step
modules of this package register on; kept apart so that they can import it."""

import sqlite_utils

migrations = sqlite_utils.Migrations("monitor")
