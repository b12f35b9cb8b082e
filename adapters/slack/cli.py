"""`voicemail-coach manifest slack --url https://...` and `voicemail-coach manifest teams
--app-id <guid> --url https://... [--zip app.zip]`, registered into the CLI as a plugin."""

from __future__ import annotations

import argparse
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

# Package data of the installed `manifest.slack` package, so a non-editable install prints it too.
MANIFEST_PACKAGE = "manifest.slack"
PLACEHOLDER = "https://bot.example.com"
EXIT_BAD_INPUT = 2


def register(commands: argparse._SubParsersAction[Any]) -> None:
    manifest = commands.add_parser("manifest", help="print a chat platform's app manifest")
    platforms = manifest.add_subparsers(title="platforms", metavar="PLATFORM")
    slack = platforms.add_parser("slack", help="the Slack app manifest (YAML)")
    shape = slack.add_mutually_exclusive_group()
    shape.add_argument("--url", help="the public base URL, e.g. https://bot.acme.com")
    shape.add_argument(
        "--socket", action="store_true", help="the Socket Mode manifest (no public URL)"
    )
    slack.set_defaults(
        run=lambda args: print_manifest(args.url, args.socket, sys.stdout, sys.stderr)
    )
    teams = platforms.add_parser(
        "teams",
        help="the Teams app manifest (JSON), or with --zip the app package to upload",
        description="The Teams app manifest for the bot; with --zip, the app package (the "
        "manifest and both icons) to upload in Teams or its admin centre.",
    )
    teams.add_argument(
        "--app-id", required=True, help="the bot's Microsoft App ID (a GUID), from Azure"
    )
    teams.add_argument(
        "--url", required=True, help="the public base URL, e.g. https://bot.acme.com"
    )
    teams.add_argument("--zip", type=Path, metavar="PATH", help="write the app package here")
    teams.add_argument("--privacy-url", help="the privacy statement (default: --url)")
    teams.add_argument("--terms-url", help="the terms of use (default: --url)")
    teams.add_argument(
        "--app-version", help="x.y.z; raise it for every upload (default: the project's)"
    )
    teams.set_defaults(run=lambda args: teams_command(args, sys.stdout, sys.stderr))


def slack_manifest(url: str | None, socket: bool = False) -> str:
    """The manifest text; with a URL, every request URL points at {url}/slack/events."""
    name = "manifest.socket.yml" if socket else "manifest.yml"
    text = files(MANIFEST_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    if url:
        text = text.replace(PLACEHOLDER, base_url(url))
    return text


def base_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("must be an https:// URL without query or fragment")
    if any(c.isspace() or c in "\"'#" for c in url.strip()):
        raise ValueError("must not contain spaces or quotes")
    base = url.strip().rstrip("/")
    return base.removesuffix("/slack/events")


def print_manifest(url: str | None, socket: bool, stdout: TextIO, stderr: TextIO) -> int:
    try:
        text = slack_manifest(url, socket)
    except ValueError as error:
        print(f"--url: {error}", file=stderr)
        return EXIT_BAD_INPUT
    except (OSError, ModuleNotFoundError) as error:
        where = getattr(error, "filename", None) or MANIFEST_PACKAGE
        print(f"manifest: cannot read it ({type(error).__name__}: {where})", file=stderr)
        return 1
    stdout.write(text)
    return 0


def teams_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Prints the Teams manifest, or writes the app package to `args.zip`."""
    # Imported here: the Slack manifest prints even if the Teams adapter cannot load.
    from adapters.teams.package import PackageError, manifest_json, teams_manifest, write_package

    try:
        manifest = teams_manifest(
            args.app_id,
            args.url,
            privacy_url=args.privacy_url,
            terms_url=args.terms_url,
            version=args.app_version,
        )
    except PackageError as error:
        print(str(error), file=stderr)
        return EXIT_BAD_INPUT
    except (OSError, ModuleNotFoundError, ValueError) as error:
        print(f"manifest: cannot read the Teams template ({type(error).__name__})", file=stderr)
        return 1
    if args.zip is None:
        stdout.write(manifest_json(manifest))
        return 0
    try:
        write_package(args.zip, manifest)
    except OSError as error:
        print(f"--zip: cannot write {args.zip} ({error.strerror or error})", file=stderr)
        return 1
    stdout.write(f"Wrote {args.zip}: upload it in Teams (Apps, Manage your apps, Upload an app).\n")
    return 0
