"""Slack settings from the environment. Secrets come only from here, never from files or flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_API_URL = "https://slack.com/api/"
REQUIRED = ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN")


@dataclass(frozen=True, slots=True)
class SlackConfig:
    signing_secret: str | None = None
    bot_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    app_token: str | None = None
    api_url: str = DEFAULT_API_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SlackConfig:
        env = os.environ if env is None else env
        api_url = env.get("SLACK_API_URL") or DEFAULT_API_URL
        return cls(
            signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            bot_token=env.get("SLACK_BOT_TOKEN") or None,
            client_id=env.get("SLACK_CLIENT_ID") or None,
            client_secret=env.get("SLACK_CLIENT_SECRET") or None,
            app_token=env.get("SLACK_APP_TOKEN") or None,
            api_url=api_url if api_url.endswith("/") else api_url + "/",
        )

    @property
    def missing(self) -> tuple[str, ...]:
        """The required variables that are not set (names only, never values)."""
        values = {"SLACK_SIGNING_SECRET": self.signing_secret, "SLACK_BOT_TOKEN": self.bot_token}
        return tuple(name for name in REQUIRED if not values[name])

    @property
    def enabled(self) -> bool:
        return not self.missing

    @property
    def oauth_requested(self) -> bool:
        return bool(self.client_id or self.client_secret)

    @property
    def socket_mode_requested(self) -> bool:
        return bool(self.app_token)

    def __repr__(self) -> str:  # never print a secret by accident
        return (
            f"SlackConfig(enabled={self.enabled}, oauth={self.oauth_requested}, "
            f"socket_mode={self.socket_mode_requested}, api_url={self.api_url!r})"
        )
