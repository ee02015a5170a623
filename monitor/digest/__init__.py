"""From stored matches to messages: select, rank, cluster into stories, render Block Kit.

Pure: no I/O; the outbox (monitor.pipeline.outbox) reads the archive and sends what this
package builds. docs/architecture.md shows where it sits in the flow and what it may import.
"""
