"""A reply's picture (a digest's chart) as an Adaptive Card image: a data URI, since a bot's
message to Teams carries no file of its own, and small enough for the message to fit (Teams
refuses a message over about 28 KB, card and picture included)."""

from __future__ import annotations

import base64
import io

from PIL import Image as PILImage

DATA_URI_PREFIX = "data:image/png;base64,"
SHRINK_STEPS = 3  # each halves the width and height; a chart smaller than an eighth is no use
PALETTE_COLOURS = 64


def data_uri(png: bytes) -> str:
    return DATA_URI_PREFIX + base64.b64encode(png).decode("ascii")


def fitted_data_uri(png: bytes, budget: int) -> str | None:
    """The PNG as a data URI of at most `budget` characters: as it is, or redrawn smaller (a
    64-colour palette, then half the size, and half again); None if even that does not fit or
    the bytes are no picture Pillow can read."""
    uri = data_uri(png)
    if len(uri) <= budget:
        return uri
    try:
        picture = PILImage.open(io.BytesIO(png))
        picture.load()
    except Exception:  # not an image: show the alt text instead
        return None
    width, height = picture.size
    for step in range(SHRINK_STEPS + 1):
        scale = 2**step
        size = (max(1, width // scale), max(1, height // scale))
        uri = data_uri(_palette_png(picture, size))
        if len(uri) <= budget:
            return uri
    return None


def _palette_png(picture: PILImage.Image, size: tuple[int, int]) -> bytes:
    smaller = picture.convert("RGB").resize(size, PILImage.Resampling.LANCZOS)
    out = io.BytesIO()
    smaller.quantize(colors=PALETTE_COLOURS).save(out, format="PNG", optimize=True)
    return out.getvalue()
