"""The Teams app package `voicemail-coach manifest teams` builds: a manifest valid against
Microsoft's published schema, both icons as Teams wants them, and clear errors for bad input.

Microsoft publishes the manifest schema in npm's @microsoft/app-manifest (no PyPI package
ships it). The test packs that package once, at a pinned version, and keeps the one schema
file it needs in a cache folder of the venv; without npm it skips, except under CI."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
import zlib
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from adapters.slack.cli import register
from adapters.teams.package import (
    COLOR_ICON,
    MANIFEST,
    OUTLINE_ICON,
    manifest_json,
    package_bytes,
    teams_manifest,
)
from bot import cli
from bot.commands import USAGE

ROOT = Path(__file__).resolve().parents[3]
APP_ID = "1B2C3D4E-0000-4A5B-9C8D-0123456789AB"
URL = "https://coach.example.com"
NPM_PACKAGE = "@microsoft/app-manifest@1.1.2"
SCHEMA_IN_PACKAGE = "package/build/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
SCHEMA_CACHE = Path(sys.prefix) / "cache" / "teams-app-manifest-1.1.2" / "v1.17.schema.json"


def _fetch_schema(target: Path) -> None:
    """`npm pack` the pinned package into a scratch folder; keep only the schema, atomically."""
    npm = shutil.which("npm")
    if npm is None:
        message = f"npm is not installed: it fetches {NPM_PACKAGE}, the Teams manifest schema"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--ignore-scripts", "--pack-destination", scratch],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert done.returncode == 0, f"npm pack {NPM_PACKAGE} failed:\n{done.stderr[-2000:]}"
        (tarball,) = Path(scratch).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            member = archive.extractfile(SCHEMA_IN_PACKAGE)
            assert member is not None, f"{SCHEMA_IN_PACKAGE} is not in {tarball.name}"
            data = member.read()
    json.loads(data)  # whole, or not cached
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    partial.write_bytes(data)
    partial.replace(target)


@cache
def manifest_validator() -> Any:
    if not SCHEMA_CACHE.exists():
        _fetch_schema(SCHEMA_CACHE)
    schema = json.loads(SCHEMA_CACHE.read_text(encoding="utf-8"))
    # The file says draft-04 but uses `const`: draft 7 reads it as meant.
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def assert_valid_manifest(manifest: dict[str, Any]) -> None:
    errors = list(manifest_validator().iter_errors(manifest))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:5]
    )


# --- the manifest -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", [URL, f"{URL}/", "https://Coach.Example.com:8443/teams"], ids=["plain", "slash", "port"]
)
def test_the_manifest_validates_against_microsofts_schema(url: str) -> None:
    manifest = teams_manifest(APP_ID, url)
    assert_valid_manifest(manifest)
    assert manifest["manifestVersion"] == "1.17"
    assert manifest["$schema"].endswith("/v1.17/MicrosoftTeams.schema.json")


def test_the_manifest_with_every_option_validates_too() -> None:
    manifest = teams_manifest(
        APP_ID,
        URL,
        privacy_url="https://acme.example.com/privacy",
        terms_url="https://acme.example.com/terms",
        version="2.3.4",
    )
    assert_valid_manifest(manifest)
    assert manifest["developer"]["privacyUrl"] == "https://acme.example.com/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://acme.example.com/terms"
    assert manifest["version"] == "2.3.4"


def test_the_app_and_its_bot_are_the_app_id_and_the_domain_comes_from_the_url() -> None:
    manifest = teams_manifest(APP_ID, "https://Coach.Example.com:8443/teams/")
    (bot,) = manifest["bots"]
    assert manifest["id"] == bot["botId"] == APP_ID.lower()
    assert manifest["validDomains"] == ["coach.example.com"]
    assert manifest["developer"]["websiteUrl"] == "https://Coach.Example.com:8443/teams"
    text = manifest_json(manifest)
    assert "bot.example.com" not in text
    assert "00000000-0000-0000-0000-000000000000" not in text


def test_the_bot_talks_in_every_scope_and_lists_the_commands_it_understands() -> None:
    (bot,) = teams_manifest(APP_ID, URL)["bots"]
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert bot["isNotificationOnly"] is False
    (commands,) = bot["commandLists"]
    assert sorted(commands["scopes"]) == ["groupChat", "personal", "team"]
    titles = [command["title"] for command in commands["commands"]]
    assert titles == ["help", "queue", "log", "history"]
    assert set(titles) <= set(USAGE), "each command is one the grammar knows"
    for command in commands["commands"]:
        assert 10 <= len(command["description"]) <= 128


def test_the_icons_the_manifest_names_are_the_ones_packaged() -> None:
    icons = teams_manifest(APP_ID, URL)["icons"]
    assert icons == {"color": COLOR_ICON, "outline": OUTLINE_ICON}


# --- the icons ----------------------------------------------------------------------------


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, []
    while offset < len(data):
        (length,), kind = (
            struct.unpack(">I", data[offset : offset + 4]),
            data[offset + 4 : offset + 8],
        )
        chunks.append((kind, data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour, interlace) == (8, 6, 0), "8-bit RGBA, not interlaced"
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride, rows, previous = width * 4, [], bytes(width * 4)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            left = line[x - 4] if x >= 4 else 0
            up, corner = previous[x], previous[x - 4] if x >= 4 else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + best) & 0xFF
        rows.append(bytes(line))
        previous = bytes(line)
    return width, height, rows


def packaged(name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(package_bytes(teams_manifest(APP_ID, URL)))).read(name)


def test_the_colour_icon_is_192_square_and_opaque() -> None:
    width, height, rows = png_pixels(packaged(COLOR_ICON))
    assert (width, height) == (192, 192)
    assert all(row[x + 3] == 255 for row in rows for x in range(0, len(row), 4))


def test_the_outline_icon_is_32_square_white_on_transparent() -> None:
    width, height, rows = png_pixels(packaged(OUTLINE_ICON))
    assert (width, height) == (32, 32)
    pixels = [row[x : x + 4] for row in rows for x in range(0, len(row), 4)]
    drawn = [pixel for pixel in pixels if pixel[3]]
    assert drawn and len(drawn) < len(pixels) // 2, "a glyph, mostly transparent"
    assert all(pixel[:3] == b"\xff\xff\xff" for pixel in drawn), "Teams wants a white outline"
    assert pixels[0][3] == 0, "transparent corners"


# --- the package and the command ----------------------------------------------------------


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_the_zip_holds_the_manifest_and_both_icons_at_its_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "voicemail-coach-teams.zip"
    status, out, err = run_cli(
        ["manifest", "teams", "--app-id", APP_ID, "--url", URL, "--zip", str(target)], capsys
    )
    assert (status, err) == (0, "")
    assert str(target) in out
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == sorted([MANIFEST, COLOR_ICON, OUTLINE_ICON])
        manifest = json.loads(archive.read(MANIFEST))
        assert archive.testzip() is None
    assert manifest == teams_manifest(APP_ID, URL)
    assert_valid_manifest(manifest)
    assert [path.name for path in tmp_path.iterdir()] == [target.name], "no partial file left"


def test_the_same_arguments_build_the_same_package() -> None:
    assert package_bytes(teams_manifest(APP_ID, URL)) == package_bytes(teams_manifest(APP_ID, URL))


def test_without_zip_the_command_prints_the_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(["manifest", "teams", "--app-id", APP_ID, "--url", URL], capsys)
    assert (status, err) == (0, "")
    assert json.loads(out) == teams_manifest(APP_ID, URL)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--app-id", "my-bot", "--url", URL],
            "--app-id: must be the bot's Microsoft App ID, a GUID",
        ),
        (["--app-id", APP_ID[:-1], "--url", URL], "--app-id: must be"),
        (
            ["--app-id", APP_ID, "--url", "http://coach.example.com"],
            "--url: must be an https:// URL",
        ),
        (["--app-id", APP_ID, "--url", "coach.example.com"], "--url: must be an https:// URL"),
        (["--app-id", APP_ID, "--url", f"{URL}/?a=b"], "--url: must be an https:// URL without"),
        (["--app-id", APP_ID, "--url", "https://coach.example.com/a b"], "--url: must not contain"),
        (
            ["--app-id", APP_ID, "--url", URL, "--privacy-url", "http://x.example.com"],
            "--privacy-url: must be an https:// URL",
        ),
        (["--app-id", APP_ID, "--url", URL, "--app-version", "1.0"], "--app-version: must be"),
    ],
    ids=["not a guid", "short guid", "http", "no scheme", "query", "space", "privacy", "version"],
)
def test_bad_arguments_exit_2_with_one_clear_line(
    arguments: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "app.zip"
    status, out, err = run_cli(["manifest", "teams", *arguments, "--zip", str(target)], capsys)
    assert status == 2
    assert out == ""
    assert err.startswith(message) and err.count("\n") == 1, err
    assert not target.exists()


def test_a_missing_app_id_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["manifest", "teams", "--url", URL])
    assert stopped.value.code == 2
    assert "--app-id" in capsys.readouterr().err


def test_a_zip_that_cannot_be_written_fails_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "app.zip"
    status, out, err = run_cli(
        ["manifest", "teams", "--app-id", APP_ID, "--url", URL, "--zip", str(target)], capsys
    )
    assert (status, out) == (1, "")
    assert err.startswith(f"--zip: cannot write {target}")
    assert "Traceback" not in err


def test_the_slack_manifest_command_still_works(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["manifest", "slack", "--url", URL])
    assert args.run(args) == 0
    assert f"{URL}/slack/events" in capsys.readouterr().out


def test_the_wheel_ships_every_file_of_the_teams_package() -> None:
    """pyproject's package-data covers manifest/teams, so an installed copy builds the zip."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["manifest.teams"]
    shipped = [p for p in (ROOT / "manifest" / "teams").iterdir() if p.suffix != ".py"]
    assert {p.name for p in shipped} >= {MANIFEST, COLOR_ICON, OUTLINE_ICON}
    for path in shipped:
        if path.name != "__pycache__":
            assert any(fnmatch(path.name, pattern) for pattern in patterns), path.name
