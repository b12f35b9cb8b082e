"""Block Kit rendering, the channel's status, the manifest command."""

from __future__ import annotations

import io

import pytest
from aiohttp import web

from adapters.slack.app import SlackAdapter, typed_text
from adapters.slack.blocks import neutral_action_id, render_blocks, render_text
from adapters.slack.cli import print_manifest, slack_manifest
from adapters.slack.config import SlackConfig
from bot.types import Button, Fact, Reply, ScriptBlock, Tone


def test_reply_renders_header_script_fields_context_and_unique_buttons() -> None:
    reply = Reply(
        heading="H" * 200,
        paragraphs=("Because <!channel> & co",),
        script=ScriptBlock("Hi Jane,\nthis is Rita.", 12),
        facts=tuple(Fact(f"L{i}", f"v{i}") for i in range(12)),
        buttons=(Button("A", "checkin", "x|1|k", primary=True), Button("B", "checkin", "y|1|k")),
        footer=("rule: source",),
        tone=Tone.DECISION,
    )
    blocks = render_blocks(reply)
    kinds = [block["type"] for block in blocks]
    assert kinds == ["header", "section", "section", "section", "section", "context", "actions"]
    assert len(blocks[0]["text"]["text"]) == 150
    assert blocks[1]["text"]["text"].endswith("(12 s to read)\n>Hi Jane,\n>this is Rita.")
    assert len(blocks[2]["fields"]) == 10 and len(blocks[3]["fields"]) == 2
    assert blocks[2]["fields"][0]["text"] == "*L0*\nv0"
    assert "&lt;!channel&gt; &amp; co" in blocks[4]["text"]["text"]
    assert blocks[5]["elements"][0]["text"] == "Sources: rule: source"
    elements = blocks[6]["elements"]
    assert [e["action_id"] for e in elements] == ["checkin:0", "checkin:1"]
    assert elements[0]["style"] == "primary" and "style" not in elements[1]
    assert neutral_action_id(elements[1]["action_id"]) == "checkin"
    assert render_text(reply).startswith("H")


def test_long_replies_stay_within_fifty_blocks() -> None:
    reply = Reply(heading="x", paragraphs=tuple(str(i) for i in range(80)))
    assert len(render_blocks(reply)) == 50


def test_config_reads_names_and_never_shows_secrets() -> None:
    config = SlackConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-secret", "SLACK_API_URL": "http://x"})
    assert config.missing == ("SLACK_SIGNING_SECRET",)
    assert config.api_url == "http://x/"
    assert "xoxb-secret" not in repr(config)


def _mount(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[bool, str, bool]:
    for name in ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_CLIENT_ID",
                 "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = web.Application()
    status = SlackAdapter().mount(app, None)  # type: ignore[arg-type]  # unused when disabled
    routes = {route.resource.canonical for route in app.router.routes() if route.resource}
    return status.enabled, status.why, "/slack/events" in routes


def test_disabled_without_credentials_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enabled, why, routed = _mount(monkeypatch, {"SLACK_APP_TOKEN": "xapp-1"})
    assert not enabled and not routed
    assert "SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN not set" in why
    assert "Socket Mode also needs SLACK_BOT_TOKEN" in why
    assert "xapp-1" not in why


def test_manifest_command_replaces_the_url() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert print_manifest("https://bot.acme.com/", False, out, err) == 0
    assert "https://bot.example.com" not in out.getvalue()
    assert out.getvalue().count("https://bot.acme.com/slack/events") == 3
    assert "- https://bot.acme.com/slack/oauth_redirect" in out.getvalue()
    assert print_manifest("http://insecure", False, out, err) == 2
    socket = slack_manifest(None, socket=True)
    assert "socket_mode_enabled: true" in socket and "url" not in socket.replace("_url", "")


@pytest.mark.parametrize(
    ("sent", "typed"),
    [("Jane Doe @ AT&amp;T", "Jane Doe @ AT&T"),
     ("log Jane @ Acme left &lt;in May&gt;", "log Jane @ Acme left <in May>"),
     ("team add <@U123|sam> <@U456>", "team add <@U123|sam> <@U456>"),
     ("team add &lt;@U999&gt;", "team add @U999>"),
     ("Tom &amp;amp; Jerry @ Acme", "Tom &amp; Jerry @ Acme")],
)  # fmt: skip
def test_slash_command_text_is_read_as_the_rep_typed_it(sent: str, typed: str) -> None:
    """Slack escapes &, < and > in what a rep types and sends mentions as tokens: the coach
    gets what was typed, and only Slack's own mentions stay tokens."""
    assert typed_text(sent) == typed
