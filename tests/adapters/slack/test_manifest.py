"""The Slack app manifests `voicemail-coach manifest slack` prints."""

from __future__ import annotations

import pytest

from adapters.slack.cli import slack_manifest
from adapters.slack.modes import SCOPES

# What the app calls: slash commands, chat.postMessage/postEphemeral, conversations.open for
# the direct message, users.info for the rep's profile, files upload v2 for a digest's chart,
# conversations.history of the direct message to see whether a send arrived.
USED_SCOPES = {"commands", "chat:write", "im:write", "im:history", "files:write", "users:read"}


def bot_scopes(manifest: str) -> set[str]:
    lines = manifest.splitlines()
    start = lines.index("    bot:") + 1
    scopes = set()
    for line in lines[start:]:
        if not line.startswith("      - "):
            break
        scopes.add(line.removeprefix("      - ").strip())
    return scopes


@pytest.mark.parametrize("socket", [False, True], ids=["http", "socket"])
def test_the_manifest_asks_only_for_the_scopes_the_app_uses(socket: bool) -> None:
    scopes = bot_scopes(slack_manifest("https://coach.example.com", socket=socket))
    assert scopes == USED_SCOPES
    assert "channels:history" not in scopes and "files:read" not in scopes
    assert scopes == set(SCOPES), "OAuth installs must ask for the scopes the manifest has"


def test_the_url_manifest_points_every_request_at_the_service() -> None:
    text = slack_manifest("https://coach.example.com/")
    assert text.count("https://coach.example.com/slack/events") == 3
    assert "https://coach.example.com/slack/oauth_redirect" in text
    assert "bot.example.com" not in text


@pytest.mark.parametrize("socket", [False, True], ids=["http", "socket"])
def test_mentions_arrive_as_ids_and_the_bots_messages_can_be_read(socket: bool) -> None:
    text = slack_manifest("https://coach.example.com", socket=socket)
    # `team add @tom` reaches the app as `<@U123|tom>`: a user id, not a name.
    assert "should_escape: true" in text and "should_escape: false" not in text
    # Nudges and digests arrive in the app's Messages tab, which the rep reads but cannot type in.
    assert "messages_tab_enabled: true" in text
    assert "messages_tab_read_only_enabled: true" in text
