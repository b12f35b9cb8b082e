"""Slack settings from the environment. Secrets come only from here, never from files or flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

DEFAULT_API_URL = "https://slack.com/api/"
# Where Slack's response_urls point; a job naming any other place is not Slack's (see jobs.py).
Origin = tuple[str, str, int]  # scheme, host, port
SLACK_RESPONSE_URL_ORIGINS: frozenset[Origin] = frozenset({("https", "hooks.slack.com", 443)})
DEFAULT_PORTS = {"https": 443, "http": 80}
REQUIRED = ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN")
OAUTH_REQUIRED = ("SLACK_SIGNING_SECRET", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
SOCKET_MODE_REQUIRED = ("SLACK_APP_TOKEN", "SLACK_BOT_TOKEN")

# How the channel runs, from the variables that are set (first match wins):
SOCKET_MODE = "socket"  # SLACK_APP_TOKEN + SLACK_BOT_TOKEN: one workspace, no public URL (dev)
OAUTH = "oauth"  # SLACK_SIGNING_SECRET + SLACK_CLIENT_ID + SLACK_CLIENT_SECRET: any workspace
SINGLE_WORKSPACE = "single"  # SLACK_SIGNING_SECRET + SLACK_BOT_TOKEN: one workspace over HTTP


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
    def response_url_origins(self) -> frozenset[Origin]:
        """Slack's hooks host, and SLACK_API_URL's host when it is set (a test's fake Slack)."""
        api = origin_of(self.api_url) if self.api_url != DEFAULT_API_URL else None
        return SLACK_RESPONSE_URL_ORIGINS | ({api} if api else set())

    @property
    def missing(self) -> tuple[str, ...]:
        """The variables one workspace over HTTP needs that are not set (names, never values)."""
        return self._unset(REQUIRED)

    @property
    def oauth_missing(self) -> tuple[str, ...]:
        return self._unset(OAUTH_REQUIRED)

    @property
    def socket_mode_missing(self) -> tuple[str, ...]:
        return self._unset(SOCKET_MODE_REQUIRED)

    def _unset(self, names: tuple[str, ...]) -> tuple[str, ...]:
        values = {
            "SLACK_SIGNING_SECRET": self.signing_secret,
            "SLACK_BOT_TOKEN": self.bot_token,
            "SLACK_CLIENT_ID": self.client_id,
            "SLACK_CLIENT_SECRET": self.client_secret,
            "SLACK_APP_TOKEN": self.app_token,
        }
        return tuple(name for name in names if not values[name])

    @property
    def mode(self) -> str | None:
        """SOCKET_MODE, OAUTH or SINGLE_WORKSPACE; None when none of them is configured."""
        if not self.socket_mode_missing:
            return SOCKET_MODE
        if not self.oauth_missing:
            return OAUTH
        if not self.missing:
            return SINGLE_WORKSPACE
        return None

    @property
    def enabled(self) -> bool:
        return self.mode is not None

    @property
    def oauth_requested(self) -> bool:
        return bool(self.client_id or self.client_secret)

    @property
    def socket_mode_requested(self) -> bool:
        return bool(self.app_token)

    def __repr__(self) -> str:  # never print a secret by accident
        return (
            f"SlackConfig(mode={self.mode}, oauth={self.oauth_requested}, "
            f"socket_mode={self.socket_mode_requested}, api_url={self.api_url!r})"
        )


def origin_of(url: str) -> Origin | None:
    """The scheme, host and port `url` goes to; None if it is not a plain http(s) URL (one
    with a user name, say, which hides where it goes)."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return parts.scheme, parts.hostname, port


def is_response_url(url: str, origins: frozenset[Origin]) -> bool:
    # A URL that starts with an origin's own spelling and a "/" can go nowhere else: the
    # common case, checked without parsing the URL (which a worker did twice a job).
    return url.startswith(_prefixes(origins)) or origin_of(url) in origins


@lru_cache(maxsize=8)
def _prefixes(origins: frozenset[Origin]) -> tuple[str, ...]:
    """How each origin starts a URL: with its port, and without it where it is the default."""
    prefixes = []
    for scheme, host, port in origins:
        prefixes.append(f"{scheme}://{host}:{port}/")
        if DEFAULT_PORTS.get(scheme) == port:
            prefixes.append(f"{scheme}://{host}/")
    return tuple(prefixes)
