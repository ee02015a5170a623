"""The only code that reads YAML files and environment variables.

Each loader returns validated model objects or raises ConfigError listing every problem.

docs/configuration.md describes the files; docs/architecture.md what this package may import.
"""
