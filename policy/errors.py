"""The one error the policy raises for input it cannot accept."""


class InvalidInput(ValueError):
    """Names the field that was wrong and what it accepts."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")
