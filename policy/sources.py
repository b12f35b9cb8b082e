"""The five seed texts the rules cite: their file names (the `decide` contract) and titles.

A rep cannot open a seed file, so what the bot shows is the title: a short summary of what the
text argues, in our own words.
"""

from typing import Final

SEEDS: Final[dict[str, str]] = {
    "000": "000_184dd2ee0c5ff35b.txt",
    "001": "001_ccbf0b249bdf9e27.txt",
    "002": "002_8829cfc0d0dfed5a.txt",
    "003": "003_b2ca0156507fd887.txt",
    "004": "004_2bf98609b3b3d331.txt",
}

SEED_TITLES: Final[dict[str, str]] = {
    "000": "Skip voicemail and spend the time on live calls",
    "001": "Leave a message only when a reply is sure",
    "002": "Build rapport with a series, then a last voicemail",
    "003": "Only referrals get a voicemail: hit zero for the rest",
    "004": "Usually no message, except new contacts, follow-ups and long silences",
}

# A rule citing several seeds names their files in one `source`, joined by this.
FILE_SEPARATOR: Final = ", "
_NUMBER_OF_FILE: Final = {file: number for number, file in SEEDS.items()}


def seed_file(number: str) -> str:
    return SEEDS[number]


def cite(numbers: tuple[str, ...]) -> str:
    """The `source` of a rule citing these seeds: their file names."""
    return FILE_SEPARATOR.join(seed_file(number) for number in numbers)


def titles_of(source: str) -> tuple[str, ...]:
    """The titles of the seeds a `source` (as `cite` wrote it) names, in its order."""
    return tuple(SEED_TITLES[_NUMBER_OF_FILE[file]] for file in source.split(FILE_SEPARATOR))
