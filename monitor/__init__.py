"""News-monitoring alert bot: feeds in, matched items archived, digests out."""

__version__ = "0.1.0"
