"""`voicemail-coach manifest teams --app-id <guid> --url https://... [--zip app.zip]`, added
to the CLI by the Teams adapter."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from adapters.teams.package import PackageError, manifest_json, teams_manifest, write_package
from bot.cli import EXIT_BAD_INPUT, manifest_platforms


def register(commands: argparse._SubParsersAction[Any]) -> None:
    platforms = manifest_platforms(commands)
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


def teams_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Prints the Teams manifest, or writes the app package to `args.zip`."""
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
