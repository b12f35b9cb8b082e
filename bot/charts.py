"""The digest's chart: per rep, the period's outcomes as stacked bars, the callback rate on a
second axis. Drawn with matplotlib's Agg canvas on a Figure of its own (never pyplot), so
charts drawn in threads at once share no state."""

from __future__ import annotations

import asyncio
import io
import math
import re
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image as PILImage

from bot.digests import Digest, Line, percent
from bot.types import Image

DPI = 100
HEIGHT_INCHES = 3.2
INCHES_PER_REP = 0.55
MIN_WIDTH_INCHES, MAX_WIDTH_INCHES = 6.0, 9.0  # readable in a chat, small as a PNG
# Bottom to top; colour-blind-safe (Okabe-Ito) colours.
SERIES = (
    ("voicemails left", "#E69F00"),
    ("skipped", "#56B4E9"),
    ("connects", "#009E73"),
    ("other dials", "#BBBBBB"),
)
RATE_COLOUR = "#D55E00"
RATE_MARKER = "o"  # dots, no line: reps are not a sequence
PALETTE_COLOURS = 64
NAME_CHARS = 14  # a longer name is cut under its bar
UPRIGHT_NAMES = 6  # more names than this are slanted so they do not overlap


@dataclass(frozen=True, slots=True)
class ChartData:
    """What the chart plots: a bar per rep, each series' height per rep (bottom to top, in the
    order of SERIES), and the callback rate per rep (None: no voicemail left)."""

    names: tuple[str, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]
    callback_rates: tuple[float | None, ...]


def chart_data(digest: Digest) -> ChartData:
    heights = [_heights(line) for line in digest.reps]
    return ChartData(
        names=tuple(line.name or line.user_id or "?" for line in digest.reps),
        series=tuple(
            (label, tuple(bar[index] for bar in heights)) for index, (label, _) in enumerate(SERIES)
        ),
        callback_rates=tuple(line.current.callback_rate for line in digest.reps),
    )


def _heights(line: Line) -> tuple[int, int, int, int]:
    numbers = line.current
    other = numbers.dials - numbers.voicemails - numbers.skipped - numbers.connects
    return numbers.voicemails, numbers.skipped, numbers.connects, max(0, other)


def digest_chart(digest: Digest) -> Image:
    """The chart as a PNG (10-20 KB: a 64-colour palette), with alt text that states every
    plotted number."""
    data = chart_data(digest)
    return Image(png=_render(data, digest), alt=alt_text(data, digest), name=file_name(digest))


async def digest_chart_async(digest: Digest) -> Image:
    """digest_chart off the event loop: drawing is CPU work."""
    return await asyncio.to_thread(digest_chart, digest)


def file_name(digest: Digest) -> str:
    team = re.sub(r"[^A-Za-z0-9_-]+", "-", digest.team.team).strip("-") or "team"
    return f"digest-{team}-{digest.until.date().isoformat()}.png"


def alt_text(data: ChartData, digest: Digest) -> str:
    if not data.names:
        return f"Outcomes per rep, {digest.period}: no reps on the team."
    reps = []
    for index, name in enumerate(data.names):
        parts = ", ".join(f"{heights[index]} {label}" for label, heights in data.series)
        rate = data.callback_rates[index]
        reps.append(f"{name}: {parts}, callback rate {percent(rate)}")
    return f"Outcomes per rep, {digest.period}. " + "; ".join(reps) + "."


def _render(data: ChartData, digest: Digest) -> bytes:
    width = min(MAX_WIDTH_INCHES, max(MIN_WIDTH_INCHES, 2 + INCHES_PER_REP * len(data.names)))
    figure = Figure(figsize=(width, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    bars = figure.add_subplot()
    bars.set_title(f"{digest.team.title}, {digest.period}", fontsize=9)
    _draw_bars(bars, data)
    _draw_rates(bars.twinx(), data)
    _draw_legend(figure)
    return _png(figure)


def _draw_bars(axes: Axes, data: ChartData) -> None:
    positions = list(range(len(data.names)))
    bottoms = [0] * len(data.names)
    for (label, heights), (_, colour) in zip(data.series, SERIES, strict=True):
        axes.bar(positions, heights, bottom=bottoms, color=colour, label=label, width=0.6)
        bottoms = [low + high for low, high in zip(bottoms, heights, strict=True)]
    slanted = len(data.names) > UPRIGHT_NAMES
    axes.set_xticks(
        positions,
        [_short(name) for name in data.names],
        rotation=30 if slanted else 0,
        ha="right" if slanted else "center",
        rotation_mode="anchor",
        fontsize=8,
    )
    axes.set_ylabel("dials", fontsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # dials come whole
    axes.tick_params(axis="y", labelsize=8)
    axes.margins(y=0.1)
    if not data.names:
        axes.text(0.5, 0.5, "No reps on the team", ha="center", transform=axes.transAxes)


def _draw_rates(axes: Axes, data: ChartData) -> None:
    rates = figure_rates(data)
    axes.plot(range(len(rates)), rates, RATE_MARKER, color=RATE_COLOUR, label="callback rate")
    axes.set_ylim(0, max([10.0, *(rate for rate in rates if not math.isnan(rate))]) * 1.15)
    axes.set_ylabel("callback rate (%)", fontsize=8, color=RATE_COLOUR)
    axes.tick_params(axis="y", labelsize=8, colors=RATE_COLOUR)


def _draw_legend(figure: Figure) -> None:
    handles, labels = [], []
    for axes in figure.axes:
        more_handles, more_labels = axes.get_legend_handles_labels()
        handles += more_handles
        labels += more_labels
    figure.legend(
        handles, labels, loc="outside upper center", ncols=len(labels), fontsize=7, frameon=False
    )


def _png(figure: Figure) -> bytes:
    drawn = io.BytesIO()
    figure.savefig(drawn, format="png", dpi=DPI)
    # A chart has a handful of flat colours: a 64-colour palette keeps it sharp at a third of
    # the size of full colour.
    with PILImage.open(drawn) as pixels:
        palette = pixels.convert("RGB").quantize(colors=PALETTE_COLOURS)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def figure_rates(data: ChartData) -> list[float]:
    """Rates in percent; NaN (not drawn) where a rep left no voicemail."""
    return [float("nan") if rate is None else rate * 100 for rate in data.callback_rates]
