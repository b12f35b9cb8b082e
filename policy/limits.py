"""How long each free-text field may be, the same in every channel: chat, form and decide JSON.

Lengths count characters after runs of whitespace are folded to one space, as stored.
"""

from __future__ import annotations

from typing import Final

MAX_NAME: Final = 100
"""A person's name: the prospect, who referred them, the rep."""
MAX_COMPANY: Final = 100
MAX_FOLLOWUP: Final = 200
"""What the prospect waits for: `the proposal for the Q3 rollout`."""
MAX_PITCH: Final = 200
MAX_NOTE: Final = 500
"""A note after a check-in: `log Jane Doe @ Acme live asked for pricing in May`."""
MAX_PHONE: Final = 40
MAX_TIMEZONE: Final = 64
MAX_REGION: Final = 6
"""ISO 3166-2 at its longest: a country, `-` and three characters (`US-FL`, `FR-75C`)."""
MAX_SETTING_VALUE: Final = 40
MAX_ID: Final = 128
"""A chat platform's id of a user, tenant or chat (Teams' 29: ids run to about 90)."""
MAX_COMMAND: Final = 2000
"""The whole text after /voicemail: every field at its longest fits, a pasted page does not."""


def too_long(text: str, limit: int) -> str | None:
    """`is N characters long; at most LIMIT` if `text` is longer than `limit`, else None."""
    if len(text) <= limit:
        return None
    return f"is {len(text):,} characters long; at most {limit:,}"
