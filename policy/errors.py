"""The one error the policy raises for input it cannot accept."""

SHOWN = 40  # a bad value is quoted back up to this many characters


class InvalidInput(ValueError):
    """Names the field that was wrong and what it accepts, on one line."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(_one_line(f"{field}: {problem}"))


def _one_line(text: str) -> str:
    """Escape line breaks and other unprintable characters (a field name may come from input)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def shown(raw: object) -> str:
    """The bad value as a message quotes it: its repr, cut short (it may be huge)."""
    text = repr(raw)
    return text if len(text) <= SHOWN else f"{text[: SHOWN - 1]}…"
