"""The five seed texts the rules cite, by their short number."""

from typing import Final

SEEDS: Final[dict[str, str]] = {
    "000": "000_184dd2ee0c5ff35b.txt",
    "001": "001_ccbf0b249bdf9e27.txt",
    "002": "002_8829cfc0d0dfed5a.txt",
    "003": "003_b2ca0156507fd887.txt",
    "004": "004_2bf98609b3b3d331.txt",
}

SEED_TITLES: Final[dict[str, str]] = {
    "000": "A Better Call: never leave a voicemail",
    "001": "Leave a message only when a reply is certain",
    "002": "A series of messages, then a last voicemail and a recycle",
    "003": "Never leave one for a stranger; when in doubt, hit zero",
    "004": "It depends: new contacts, proposals, long silences",
}


def seed_file(number: str) -> str:
    return SEEDS[number]
