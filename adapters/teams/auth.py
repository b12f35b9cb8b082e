"""botbuilder's own authentication, set up so that it runs the same way in production and
against loopback fakes, with outbound tokens cached.

Every setting botbuilder's parameterized authentication reads is given (Microsoft's values by
default), so no URL of Microsoft's is ever reached by a fallback. Outbound tokens come from
one msal application per login endpoint, kept for the life of the process: msal keeps the
token until it expires, where stock botbuilder would build a new application (one discovery
GET and one token POST) for every turn.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    JwtTokenExtractor,
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
)
from botframework.connector.auth.jwt_token_extractor import _OpenIdMetadata
from msal import ConfidentialClientApplication

from adapters.teams.config import OAUTH_SCOPE, OAUTH_URL, TeamsConfig

HTTP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True, slots=True)
class BotSettings:
    """The attributes ConfigurationBotFrameworkAuthentication reads by name."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str
    OAUTH_URL: str
    CALLER_ID: str | None = None
    VALIDATE_AUTHORITY: bool = True

    def __repr__(self) -> str:
        return f"BotSettings(APP_TYPE={self.APP_TYPE})"


def bot_settings(config: TeamsConfig) -> BotSettings:
    return BotSettings(
        APP_ID=config.app_id,
        APP_PASSWORD=config.app_password,
        APP_TYPE=config.app_type,
        APP_TENANTID=config.app_tenant_id,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=config.openid_metadata_url,
        # The same metadata: a token claiming to be the Emulator's is checked against it too.
        TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=config.openid_metadata_url,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=config.token_issuer,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=config.login_url,
        TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=OAUTH_SCOPE,
        OAUTH_URL=OAUTH_URL,
    )


class CachedCredentialFactory(PasswordServiceClientCredentialFactory):  # type: ignore[misc]
    """Credentials whose msal application is built once per login endpoint: no instance
    discovery (msal would ask Microsoft even for another authority), and an HTTP session that
    trusts `ca_bundle` (or the system's CAs) whatever the environment says."""

    def __init__(self, config: TeamsConfig) -> None:
        tenant = config.app_tenant_id or None
        super().__init__(config.app_id, config.app_password, tenant)
        self.config = config
        self._apps: dict[str, ConfidentialClientApplication] = {}
        self._lock = threading.Lock()  # tokens are fetched from worker threads
        self._fetching = threading.Lock()  # one fetch at a time: the others find its token

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        credentials = await super().create_credentials(
            app_id, oauth_scope, login_endpoint, validate_authority
        )
        if isinstance(credentials, MicrosoftAppCredentials) and credentials.microsoft_app_id:
            credentials.app = self.msal_app(login_endpoint or self.config.login_url)
        return credentials

    def msal_app(self, authority: str) -> ConfidentialClientApplication:
        with self._lock:
            app = self._apps.get(authority)
            if app is None:  # building it fetches the authority's metadata: once
                app = ConfidentialClientApplication(
                    client_id=self.config.app_id,
                    client_credential=self.config.app_password,
                    authority=authority,
                    instance_discovery=False,
                    http_client=_session(self.config.ca_bundle),
                    timeout=HTTP_TIMEOUT_SECONDS,
                )
                self._apps[authority] = app
            return app

    def prefetch_token(self) -> None:
        """Have a token in msal's cache, so sending (which asks for one synchronously, on the
        event loop) finds it there. Blocking: run it in a thread."""
        if not self.config.app_id:
            return
        app = self.msal_app(self.config.login_url)
        scopes = [OAUTH_SCOPE + "/.default"]
        with self._fetching:
            if not app.acquire_token_silent(scopes, account=None):
                app.acquire_token_for_client(scopes=scopes)


def _session(ca_bundle: str | None) -> requests.Session:
    session = requests.Session()
    # requests would let REQUESTS_CA_BUNDLE (and proxies) from the environment override verify.
    session.trust_env = False
    session.verify = ca_bundle or True
    return session


class ThreadedOpenIdMetadata(_OpenIdMetadata):  # type: ignore[misc]
    """botbuilder's cache of the signing keys, refreshed (daily, or for an unknown key id at
    most hourly) in a thread with a timeout: botbuilder's own refresh blocks the event loop,
    with no timeout, for as long as the metadata endpoint takes."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._refreshing = asyncio.Lock()

    async def _refresh(self) -> None:
        known = self.last_updated
        async with self._refreshing:  # requests arriving together share one fetch
            if self.last_updated == known:
                await asyncio.to_thread(self._fetch)

    def _fetch(self) -> None:
        with requests.Session() as session:
            metadata = session.get(self.url, timeout=HTTP_TIMEOUT_SECONDS)
            metadata.raise_for_status()
            keys = session.get(metadata.json()["jwks_uri"], timeout=HTTP_TIMEOUT_SECONDS)
            keys.raise_for_status()
            found = keys.json()["keys"]
        self.keys = found
        self.last_updated = datetime.now()


def use_threaded_metadata(url: str) -> None:
    """Have botbuilder find our cache of `url`'s keys (its cache is a class-level dict)."""
    if not isinstance(JwtTokenExtractor.metadataCache.get(url), ThreadedOpenIdMetadata):
        JwtTokenExtractor.metadataCache[url] = ThreadedOpenIdMetadata(url)


class Authenticator:
    """Bot Framework's JWT check of one inbound request; raises on any bad token."""

    def __init__(self, config: TeamsConfig) -> None:
        use_threaded_metadata(config.openid_metadata_url)
        self.credentials = CachedCredentialFactory(config)
        self.auth = ConfigurationBotFrameworkAuthentication(
            bot_settings(config), credentials_factory=self.credentials
        )

    async def authenticate(
        self, activity: Activity, header: str | None
    ) -> AuthenticateRequestResult:
        """None: no header (accepted only when the app has no id, i.e. anonymous mode)."""
        return await self.auth.authenticate_request(activity, header)
