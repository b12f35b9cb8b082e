"""The digest's chart: a small valid PNG with a bar per rep, and alt text with its numbers."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

from PIL import Image as PILImage

from bot.charts import chart_data, digest_chart, digest_chart_async
from bot.digests import Digest, team_digest
from bot.records import CheckIn, Outcome, RepProfile, TeamConfig

SINCE = datetime(2026, 11, 30, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=7)
TEAM = TeamConfig("T1", "U9", label="Dana's team")
SAM = RepProfile("T1", "U1", name="Sam Lee", team="U9")
ALEX = RepProfile("T1", "U2", team="U9")  # no name: shown by id
PNG_LIMIT = 60_000


def logged(rep: RepProfile, outcome: Outcome, times: int) -> list[CheckIn]:
    return [
        CheckIn("T1", rep.user_id, "U9", f"p{i}", outcome, SINCE + timedelta(minutes=i))
        for i in range(times)
    ]


def week(reps: tuple[RepProfile, ...] = (SAM, ALEX)) -> Digest:
    current = [
        *logged(SAM, Outcome.LEFT, 8),
        *logged(SAM, Outcome.SKIPPED, 5),
        *logged(SAM, Outcome.LIVE, 2),
        *logged(SAM, Outcome.NO_ANSWER, 3),
        *logged(SAM, Outcome.CALLED_BACK, 2),
        *logged(ALEX, Outcome.SKIPPED, 4),
        *logged(ALEX, Outcome.MEETING, 1),
    ]
    return team_digest(TEAM, reps, current, [], {}, SINCE, UNTIL, "weekly")


def test_the_chart_plots_each_reps_outcomes_stacked_and_the_callback_rate() -> None:
    data = chart_data(week())
    assert data.names == ("Sam Lee", "U2")
    assert data.series == (
        ("voicemails left", (8, 0)),
        ("skipped", (5, 4)),
        ("connects", (2, 1)),
        ("other dials", (3, 0)),  # dials that were none of the above; a callback is no dial
    )
    assert data.callback_rates == (0.25, None)


def test_the_chart_is_a_small_png_named_for_the_team_and_day() -> None:
    image = digest_chart(week())
    assert image.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(image.png) < PNG_LIMIT
    with PILImage.open(io.BytesIO(image.png)) as picture:
        picture.verify()
    assert image.name == "digest-U9-2026-12-07.png"


def test_the_alt_text_states_every_plotted_number() -> None:
    image = digest_chart(week())
    assert image.alt == (
        "Outcomes per rep, Mon 30 Nov-Sun 06 Dec. "
        "Sam Lee: 8 voicemails left, 5 skipped, 2 connects, 3 other dials, callback rate 25%; "
        "U2: 0 voicemails left, 4 skipped, 1 connects, 0 other dials, callback rate n/a."
    )


def test_a_big_team_stays_under_the_size_bound_with_a_bar_each() -> None:
    reps = tuple(
        RepProfile("T1", f"U{i}", name=f"Representative Number {i}", team="U9") for i in range(40)
    )
    current = [c for rep in reps for c in logged(rep, Outcome.LEFT, 3)]
    digest = team_digest(TEAM, reps, current, [], {}, SINCE, UNTIL, "weekly")
    image = digest_chart(digest)
    assert len(image.png) < PNG_LIMIT
    assert len(chart_data(digest).names) == 40
    assert image.alt.count("callback rate") == 40


def test_a_team_with_nobody_on_it_still_gets_a_chart() -> None:
    image = digest_chart(team_digest(TEAM, (), [], [], {}, SINCE, UNTIL, "weekly"))
    assert image.png.startswith(b"\x89PNG")
    assert image.alt == "Outcomes per rep, Mon 30 Nov-Sun 06 Dec: no reps on the team."


async def test_charts_drawn_in_threads_at_once_come_out_the_same() -> None:
    digest = week()
    alone = digest_chart(digest)
    together = await asyncio.gather(*(digest_chart_async(digest) for _ in range(4)))
    assert all(image == alone for image in together)
