"""Teams settings from the environment, under Bot Framework's own names. Secrets come only
from here; `repr` never shows one.

MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD   the bot's Entra app registration (required)
MICROSOFT_APP_TYPE                         SingleTenant (default) or MultiTenant
MICROSOFT_APP_TENANT_ID                    the app's tenant (required for SingleTenant)
TEAMS_ALLOWED_TENANTS                      comma-separated tenant ids whose requests are served;
                                           default: the app's tenant (SingleTenant), any
                                           tenant (MultiTenant)
MICROSOFT_OPENID_METADATA_URL              where the signing keys are listed (Bot Framework's)
MICROSOFT_TOKEN_ISSUER                     the `iss` inbound tokens must have
MICROSOFT_LOGIN_URL                        where outbound tokens come from (Entra's, for the
                                           app's tenant or botframework.com)
REQUESTS_CA_BUNDLE, SSL_CERT_FILE          the CAs trusted for MICROSOFT_LOGIN_URL (else the
                                           system's)
TEAMS_ALLOW_ANONYMOUS=true                 no authentication at all, for Agents Playground on
                                           a laptop; credentials are then ignored
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

SINGLE_TENANT = "SingleTenant"
MULTI_TENANT = "MultiTenant"
APP_TYPES = (SINGLE_TENANT, MULTI_TENANT)

# Microsoft's public cloud; tests point these at loopback fakes.
DEFAULT_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
DEFAULT_TOKEN_ISSUER = "https://api.botframework.com"
OAUTH_SCOPE = "https://api.botframework.com"
OAUTH_URL = "https://api.botframework.com"
LOGIN_HOST = "https://login.microsoftonline.com"
MULTI_TENANT_LOGIN_TENANT = "botframework.com"
TRUE = ("1", "true", "yes", "on")


class TeamsConfigError(ValueError):
    """Settings the adapter cannot run with; the message names them (never their values)."""


@dataclass(frozen=True, slots=True)
class TeamsConfig:
    app_id: str = ""
    app_password: str = ""
    app_type: str = SINGLE_TENANT
    app_tenant_id: str = ""
    allowed_tenants: frozenset[str] = frozenset()
    any_tenant: bool = False  # MultiTenant with no TEAMS_ALLOWED_TENANTS
    openid_metadata_url: str = DEFAULT_OPENID_METADATA_URL
    token_issuer: str = DEFAULT_TOKEN_ISSUER
    login_url: str = ""
    ca_bundle: str | None = None  # the outbound token endpoint's CA, else the system's
    anonymous: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TeamsConfig:
        """The settings, or TeamsConfigError when they are set but cannot work together."""
        env = os.environ if env is None else env
        anonymous = (env.get("TEAMS_ALLOW_ANONYMOUS") or "").strip().lower() in TRUE
        app_id = _value(env, "MICROSOFT_APP_ID")
        password = _value(env, "MICROSOFT_APP_PASSWORD")
        app_type = _value(env, "MICROSOFT_APP_TYPE") or SINGLE_TENANT
        tenant_id = _value(env, "MICROSOFT_APP_TENANT_ID")
        allowed = frozenset(
            part.strip() for part in (env.get("TEAMS_ALLOWED_TENANTS") or "").split(",")
        ) - {""}
        if not anonymous:
            _check_credentials(app_id, password, app_type, tenant_id)
        if app_type == SINGLE_TENANT and not allowed and tenant_id:
            allowed = frozenset({tenant_id})
        return cls(
            app_id="" if anonymous else app_id,
            app_password="" if anonymous else password,
            app_type=app_type,
            app_tenant_id=tenant_id,
            allowed_tenants=allowed,
            any_tenant=not allowed and (anonymous or app_type == MULTI_TENANT),
            openid_metadata_url=_value(env, "MICROSOFT_OPENID_METADATA_URL")
            or DEFAULT_OPENID_METADATA_URL,
            token_issuer=_value(env, "MICROSOFT_TOKEN_ISSUER") or DEFAULT_TOKEN_ISSUER,
            login_url=(
                _value(env, "MICROSOFT_LOGIN_URL") or _default_login_url(app_type, tenant_id)
            ).rstrip("/"),
            ca_bundle=_value(env, "REQUESTS_CA_BUNDLE") or _value(env, "SSL_CERT_FILE") or None,
            anonymous=anonymous,
        )

    def allows_tenant(self, tenant: str) -> bool:
        return bool(tenant) and (self.any_tenant or tenant in self.allowed_tenants)

    def tenants_in_words(self) -> str:
        if self.any_tenant:
            return "any tenant"
        count = len(self.allowed_tenants)
        return f"{count} allowed tenant{'s' if count != 1 else ''}"

    def __repr__(self) -> str:  # never print a secret by accident
        return (
            f"TeamsConfig(app_type={self.app_type}, anonymous={self.anonymous}, "
            f"tenants={self.tenants_in_words()!r}, login_url={self.login_url!r})"
        )


def _value(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


def _check_credentials(app_id: str, password: str, app_type: str, tenant_id: str) -> None:
    missing = [
        name
        for name, value in (("MICROSOFT_APP_ID", app_id), ("MICROSOFT_APP_PASSWORD", password))
        if not value
    ]
    if app_type == SINGLE_TENANT and not tenant_id:
        missing.append("MICROSOFT_APP_TENANT_ID")
    if missing:
        raise TeamsConfigError(
            f"{', '.join(missing)} not set (or TEAMS_ALLOW_ANONYMOUS=true for local tests "
            "with Agents Playground)"
        )
    if app_type not in APP_TYPES:
        raise TeamsConfigError(
            f"MICROSOFT_APP_TYPE must be {' or '.join(APP_TYPES)}, not {app_type[:20]!r}"
        )


def _default_login_url(app_type: str, tenant_id: str) -> str:
    tenant = tenant_id if app_type == SINGLE_TENANT and tenant_id else MULTI_TENANT_LOGIN_TENANT
    return f"{LOGIN_HOST}/{tenant}"
