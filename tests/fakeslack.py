"""Fake Slack Web API server on 127.0.0.1 (filled in by the delivery work)."""
