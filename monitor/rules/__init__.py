"""See docs/ and architecture notes."""
