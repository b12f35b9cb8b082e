"""The Slack channel: slack-bolt's AsyncApp mounted on our aiohttp server at /slack/events."""
