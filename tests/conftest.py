"""Shared fixtures live in their own modules; they are registered here as plugins."""

pytest_plugins = ["tests.feedserver", "tests.fakeslack"]
