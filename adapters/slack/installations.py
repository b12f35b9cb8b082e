"""Slack installations and OAuth states, kept in the project's store as documents.

slack-bolt's OAuth flow saves what oauth.v2.access returns through an installation store and
authorizes each request from it; these two classes put both in our store (SQLite or Redis),
so every replica sees the same installations and a state issued by one is consumed by any.

    tenant (enterprise or team id)  slack-installation  latest[:{team}]  Installation JSON
    tenant                          slack-bot           latest[:{team}]  Bot JSON
    _slack_oauth                    state-used          {nonce}          "1", till its state expires

OAuth states are signed, not stored (StoreOAuthStateStore): only a used one leaves a record.

The tenant is the one `adapters.slack.app.tenant_of` gives a request: the Enterprise Grid org
when there is one, else the workspace. An org-wide install is the org's `latest`; a workspace
of an org installed on its own is `latest:{team}` in the org, so two such workspaces never
overwrite each other's token. Logs name ids only, never a token.

With VOICEMAIL_COACH_SECRET_KEYS set, every secret field (SECRET_FIELDS) is stored sealed by
bot.secrets (AES-GCM, its key id beside it); a plaintext value stored before still reads, and is
sealed when the document is next written. A value that does not open counts as not installed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import json
import logging
import math
import secrets
import time
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.secrets import KEYS_VARIABLE, SecretBox, SecretUnreadable, is_sealed
from bot.store import Store

log = logging.getLogger("voicemail_coach.slack")

INSTALLATION = "slack-installation"
BOT = "slack-bot"
LATEST = "latest"
STATE_TENANT = "_slack_oauth"  # states precede any tenant: nobody has installed yet
USED_NONCE_KIND = "state-used"  # the nonces of states consumed, until those states expire
USED = "1"
STATE_KEY_PURPOSE = b"voicemail-coach slack oauth state v1"
STATE_TTL_SECONDS = 600
# What would let someone act as the app or a user, or post to a channel.
SECRET_FIELDS = (
    "bot_token",
    "bot_refresh_token",
    "user_token",
    "user_refresh_token",
    "incoming_webhook_url",
)
BOT_TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "bot_token_expires_at")
USER_TOKEN_FIELDS = ("user_token", "user_refresh_token", "user_token_expires_at")


class Keys(Enum):
    FROM_ENV = "from the environment"


Model = TypeVar("Model")


def installation_tenant(enterprise_id: str | None, team_id: str | None) -> str:
    """Enterprise Grid orgs are one tenant; otherwise the workspace is. Requests, jobs and
    installations all name their tenant by this one rule."""
    return str(enterprise_id or team_id or "")


def document_key(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
) -> str:
    """`latest` for an org-wide or plain workspace install; `latest:{team}` for a workspace
    of an Enterprise Grid org that installed the app on its own."""
    if enterprise_id and team_id and not is_enterprise_install:
        return f"{LATEST}:{team_id}"
    return LATEST


class StoreInstallationStore(AsyncInstallationStore):
    """Bot-scope installations, the latest per workspace or org (user tokens are not asked for,
    so the installation kept is the latest installer's)."""

    def __init__(self, store: Store, box: SecretBox | Keys | None = Keys.FROM_ENV) -> None:
        """`box` seals secret fields; by default the one VOICEMAIL_COACH_SECRET_KEYS gives, which
        raises SecretKeysInvalid (naming the variable, not the value) when it is unusable."""
        self.store = store
        self.box = SecretBox.from_env() if box is Keys.FROM_ENV else box
        if self.box is None:
            log.warning("slack_tokens_unencrypted", extra={"set": KEYS_VARIABLE})

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        tenant, key = _where(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        await self.store.put_document(tenant, INSTALLATION, key, self._dump(installation, tenant))
        if installation.bot_token:
            await self.async_save_bot(installation.to_bot())
        log.info(
            "slack_installed",
            extra={
                "tenant": tenant,
                "team": installation.team_id,
                "enterprise": installation.enterprise_id,
                "org_wide": bool(installation.is_enterprise_install),
            },
        )

    async def async_save_bot(self, bot: Bot) -> None:
        tenant, key = _where(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        await self.store.put_document(tenant, BOT, key, self._dump(bot, tenant))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = await self._find(BOT, enterprise_id, team_id, is_enterprise_install)
        return None if found is None else self._load(Bot, BOT, *found)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = await self._find(INSTALLATION, enterprise_id, team_id, is_enterprise_install)
        installation = None if found is None else self._load(Installation, INSTALLATION, *found)
        if installation is None or (user_id is not None and installation.user_id != user_id):
            return None
        return installation

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """On tokens_revoked naming the bot: its token goes from the bot and the installation
        documents of exactly that install (the org's when no team is named)."""
        tenant = installation_tenant(enterprise_id, team_id)
        key = _delete_key(enterprise_id, team_id)
        await self.store.delete_documents(tenant, BOT, [key])
        await self.store.change_document(
            tenant, INSTALLATION, key, lambda body: self._without_bot_token(body, tenant)
        )
        log.info("slack_bot_token_deleted", extra=_ids(tenant, enterprise_id, team_id))

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        tenant = installation_tenant(enterprise_id, team_id)
        key = _delete_key(enterprise_id, team_id)
        if user_id is None:
            await self.store.delete_documents(tenant, INSTALLATION, [key])
            return
        # One user's token was revoked: keep the installation (and its bot), drop the token.
        await self.store.change_document(
            tenant, INSTALLATION, key, lambda body: self._without_user_token(body, tenant, user_id)
        )

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """On app_uninstalled: exactly the install that went. slack-bolt names a team only for a
        workspace's own install (an org-wide install's authorization has no team), so one
        workspace of an org leaving never deletes the install the org's other workspaces use."""
        tenant = installation_tenant(enterprise_id, team_id)
        keys = [_delete_key(enterprise_id, team_id)]
        await self.store.delete_documents(tenant, BOT, keys)
        await self.store.delete_documents(tenant, INSTALLATION, keys)
        log.info("slack_installation_deleted", extra=_ids(tenant, enterprise_id, team_id))

    async def _find(
        self,
        kind: str,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None,
    ) -> tuple[str, str] | None:
        """The tenant and the stored document, if any."""
        tenant, key = _where(enterprise_id, team_id, is_enterprise_install)
        body = await self.store.get_document(tenant, kind, key)
        if body is None and key != LATEST:
            # A request that did not say it came through an org-wide install may still have.
            body = await self.store.get_document(tenant, kind, LATEST)
        return None if body is None else (tenant, body)

    def _dump(self, model: Installation | Bot, tenant: str) -> str:
        fields = model.to_dict_for_copying()
        if self.box is not None:
            box = self.box
            for name in SECRET_FIELDS:
                if isinstance(fields.get(name), str):
                    fields[name] = box.seal(fields[name], _context(tenant, name))
        return _to_json(fields)

    def _load(self, model: Callable[..., Model], kind: str, tenant: str, body: str) -> Model | None:
        """The stored model, or None (logged by ids) when it is unreadable or does not open."""
        try:
            fields: dict[str, Any] = json.loads(body)
            for name in SECRET_FIELDS:
                if is_sealed(fields.get(name)):
                    fields[name] = self._open(fields[name], tenant, name)
            return _from_fields(model, fields)
        except (ValueError, TypeError) as error:
            log.error(
                "slack_installation_unreadable",
                extra={"tenant": tenant, "kind": kind, "error": type(error).__name__},
            )
            return None

    def _open(self, sealed: Any, tenant: str, name: str) -> str:
        if self.box is None:
            raise SecretUnreadable(f"sealed, and {KEYS_VARIABLE} is not set")
        return self.box.open(sealed, _context(tenant, name))

    def _load_installation(self, body: str | None, tenant: str) -> Installation | None:
        return None if body is None else self._load(Installation, INSTALLATION, tenant, body)

    def _without_bot_token(self, body: str | None, tenant: str) -> str | None:
        """The installation document without its bot token (unchanged if it has none)."""
        installation = self._load_installation(body, tenant)
        if installation is None or installation.bot_token is None:
            return body
        for name in BOT_TOKEN_FIELDS:
            setattr(installation, name, None)
        return self._dump(installation, tenant)

    def _without_user_token(self, body: str | None, tenant: str, user_id: str) -> str | None:
        """The installation document with `user_id`'s token dropped (unchanged if not theirs)."""
        installation = self._load_installation(body, tenant)
        if installation is None or installation.user_id != user_id:
            return body
        for name in USER_TOKEN_FIELDS:
            setattr(installation, name, None)
        installation.user_scopes = []
        return self._dump(installation, tenant)


class StoreOAuthStateStore(AsyncOAuthStateStore):
    """One-time OAuth states that cost nothing to issue: `{nonce}.{expires}.{signature}`, an
    HMAC-SHA256 over the nonce and expiry. /slack/install, which anyone may load, stores
    nothing; the redirect checks the signature and expiry, then records the nonce as used
    (until the state expires), so a state works once."""

    def __init__(
        self,
        store: Store,
        key: bytes,
        expiration_seconds: int = STATE_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not key:  # an empty HMAC key would let anyone sign a state
            raise ValueError("OAuth states need a signing key")
        self.store = store
        self.key = key
        self.expiration_seconds = expiration_seconds
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        signed = f"{secrets.token_urlsafe(16)}.{int(self.clock()) + self.expiration_seconds}"
        return f"{signed}.{self._signature(signed)}"

    async def async_consume(self, state: str) -> bool:
        nonce_and_expiry = self._verified(state)
        if nonce_and_expiry is None:
            return False
        nonce, expires = nonce_and_expiry
        return await self._first_use(nonce, expires)

    def _verified(self, state: str) -> tuple[str, int] | None:
        """The nonce and expiry of a state we signed that has not expired, else None."""
        nonce, _, rest = (state or "").partition(".")
        expires, _, signature = rest.partition(".")
        if not (nonce and expires.isascii() and expires.isdigit() and signature):
            return None
        expected = self._signature(f"{nonce}.{expires}").encode()
        if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
            return None
        if int(expires) <= self.clock():
            return None
        return nonce, int(expires)

    async def _first_use(self, nonce: str, expires: int) -> bool:
        seen: list[str | None] = []

        def mark_used(body: str | None) -> str:
            seen[:] = [body]  # the attempt that was written is the last one made
            return USED

        await self.store.change_document(STATE_TENANT, USED_NONCE_KIND, nonce, mark_used)
        if seen != [None]:
            return False
        # A nonce is worth keeping only while its state could still be presented.
        ttl = max(1, math.ceil(expires - self.clock()))
        await self.store.put_document(STATE_TENANT, USED_NONCE_KIND, nonce, USED, ttl_seconds=ttl)
        return True

    def _signature(self, signed: str) -> str:
        digest = hmac.new(self.key, signed.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def state_signing_key(secret: str) -> bytes:
    """The OAuth states' HMAC key, derived from a secret the app has anyway (the client
    secret), so that the secret itself never signs anything Slack did not define."""
    return hmac.new(secret.encode(), STATE_KEY_PURPOSE, hashlib.sha256).digest()


def _where(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
) -> tuple[str, str]:
    tenant = installation_tenant(enterprise_id, team_id)
    if not tenant:
        raise ValueError("a Slack installation needs an enterprise or a team id")
    return tenant, document_key(enterprise_id, team_id, is_enterprise_install)


def _delete_key(enterprise_id: str | None, team_id: str | None) -> str:
    """Deletions name no install kind: with a team in an org it is that workspace's own."""
    return document_key(enterprise_id, team_id, is_enterprise_install=False)


def _ids(tenant: str, enterprise_id: str | None, team_id: str | None) -> dict[str, Any]:
    return {"tenant": tenant, "team": team_id, "enterprise": enterprise_id}


def _context(tenant: str, field: str) -> str:
    """What a sealed value is bound to: copied to another tenant or field, it does not open."""
    return f"{tenant}/{field}"


def _to_json(fields: dict[str, Any]) -> str:
    # to_dict_for_copying keeps custom values apart, so the constructor takes it back as is.
    return json.dumps(fields, default=_iso, sort_keys=True)


def _iso(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _from_fields(model: Callable[..., Model], fields: dict[str, Any]) -> Model:
    accepted = inspect.signature(model).parameters
    kept = {name: value for name, value in fields.items() if name in accepted}
    for scopes in ("bot_scopes", "user_scopes"):  # stored as None when empty
        if scopes in kept and kept[scopes] is None:
            kept[scopes] = ""
    return model(**kept)
