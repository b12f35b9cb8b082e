"""The Teams app package: manifest.json and both icons at the root of one zip.

The template and the icons are package data of `manifest.teams`, so an installed copy builds
the package too. Upload the zip in Teams (Apps, Manage your apps, Upload an app) or in the
Teams admin centre; the bot's messaging endpoint is set on the Azure Bot resource, not here.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MANIFEST_PACKAGE = "manifest.teams"
MANIFEST = "manifest.json"
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
PACKAGE_FILES = (MANIFEST, COLOR_ICON, OUTLINE_ICON)
PLACEHOLDER_URL = "https://bot.example.com"
DISTRIBUTION = "voicemail-coach"
# The pattern of the manifest schema's `guid`, and of its `semver` (x.y.z, no pre-release).
GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
MAX_URL = 2048
# A fixed time for every zip entry: the same arguments build the same bytes.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


class PackageError(ValueError):
    """An argument the package cannot be built with; `option` names the flag to fix."""

    def __init__(self, option: str, problem: str) -> None:
        self.option = option
        self.problem = problem
        super().__init__(f"{option}: {problem}")


def app_id(raw: str) -> str:
    """The Microsoft App ID of the bot (its Azure Bot registration), as a lowercase GUID."""
    value = raw.strip()
    if not GUID.fullmatch(value):
        raise PackageError(
            "--app-id",
            "must be the bot's Microsoft App ID, a GUID like 1b2c3d4e-0000-4a5b-9c8d-0123456789ab",
        )
    return value.lower()


def https_url(raw: str, option: str = "--url") -> str:
    """An https URL without query, fragment, credentials, spaces or quotes; no trailing /."""
    value = raw.strip()
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise PackageError(option, "must be an https:// URL, e.g. https://coach.example.com")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise PackageError(option, "must be an https:// URL without query, fragment or login")
    if any(c.isspace() or c in "\"'<>\\" for c in value) or len(value) > MAX_URL:
        raise PackageError(option, "must not contain spaces or quotes")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as error:
        raise PackageError(option, "has a port that is not a number") from error
    return value.rstrip("/")


def teams_manifest(
    app_id_text: str,
    url: str,
    *,
    privacy_url: str | None = None,
    terms_url: str | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """The manifest: the bot's id for both the app and the bot, the service's domain."""
    bot_id = app_id(app_id_text)
    base = https_url(url)
    manifest: dict[str, Any] = json.loads(_read(MANIFEST).decode("utf-8"))
    manifest["id"] = bot_id
    for bot in manifest["bots"]:
        bot["botId"] = bot_id
    manifest["version"] = version or _app_version(manifest["version"])
    if not SEMVER.fullmatch(manifest["version"]):
        raise PackageError("--app-version", "must be three numbers like 1.4.0")
    developer = manifest["developer"]
    developer["websiteUrl"] = base
    developer["privacyUrl"] = https_url(privacy_url, "--privacy-url") if privacy_url else base
    developer["termsOfUseUrl"] = https_url(terms_url, "--terms-url") if terms_url else base
    host = urlsplit(base).hostname or ""
    manifest["validDomains"] = [host]
    return manifest


def manifest_json(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def package_bytes(manifest: dict[str, Any]) -> bytes:
    """The zip Teams uploads: manifest.json and both icons at its root, nothing else."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        contents = {
            MANIFEST: manifest_json(manifest).encode("utf-8"),
            COLOR_ICON: _read(COLOR_ICON),
            OUTLINE_ICON: _read(OUTLINE_ICON),
        }
        for name, data in contents.items():
            entry = zipfile.ZipInfo(name, ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return buffer.getvalue()


def write_package(path: Path, manifest: dict[str, Any]) -> None:
    """Writes the zip whole or not at all: a failed write leaves no half package behind."""
    data = package_bytes(manifest)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _read(name: str) -> bytes:
    return files(MANIFEST_PACKAGE).joinpath(name).read_bytes()


def _app_version(default: str) -> str:
    """The project's version when it is plain x.y.z (Teams wants that), else the template's."""
    try:
        installed = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return default
    return installed if SEMVER.fullmatch(installed) else default
