"""`voicemail-coach manifest slack --url https://...`, added to the CLI by the Slack adapter."""

from __future__ import annotations

import argparse
import sys
from importlib.resources import files
from typing import Any, TextIO
from urllib.parse import urlsplit

from bot.cli import manifest_platforms

# Package data of the installed `manifest.slack` package, so a non-editable install prints it too.
MANIFEST_PACKAGE = "manifest.slack"
PLACEHOLDER = "https://bot.example.com"
EXIT_BAD_INPUT = 2


def register(commands: argparse._SubParsersAction[Any]) -> None:
    slack = manifest_platforms(commands).add_parser("slack", help="the Slack app manifest (YAML)")
    shape = slack.add_mutually_exclusive_group()
    shape.add_argument("--url", help="the public base URL, e.g. https://bot.acme.com")
    shape.add_argument(
        "--socket", action="store_true", help="the Socket Mode manifest (no public URL)"
    )
    slack.set_defaults(
        run=lambda args: print_manifest(args.url, args.socket, sys.stdout, sys.stderr)
    )


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
