"""From a feed URL to Items: fetch (the only httpx user), parse (the only feedparser user),
normalise (pure), and the article text behind an item.

No SQLite, no Slack. docs/architecture.md shows the flow and how to add a feed format.
"""
