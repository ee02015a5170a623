"""The Slack app (Socket Mode, slack_bolt): feedback buttons and `/monitor` answered where
digests are read. `monitor slack` runs it alone; `monitor run` starts it beside the poller
(beside.py). docs/slack.md sets it up; docs/architecture.md shows what it may import.
"""
