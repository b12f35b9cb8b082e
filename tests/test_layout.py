"""Dependencies point one way (adapters -> bot -> policy), and each chat SDK stays in its
adapter, so switching an SDK touches one folder."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SDKS = {"slack_bolt": "adapters/slack", "slack_sdk": "adapters/slack",
        "botbuilder": "adapters/teams", "botframework": "adapters/teams",
        "msal": "adapters/teams"}  # fmt: skip
# What the pure core may not import: frameworks, I/O clients, the layers above it.
NOT_IN_POLICY = {"aiohttp", "redis", "sqlite3", "taskiq", "taskiq_redis", "requests", "bot",
                 "adapters", *SDKS}  # fmt: skip


def imported(path: Path) -> set[str]:
    """The top-level packages a module imports (absolute imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules("policy"), ids=lambda p: p.name)
def test_the_policy_core_imports_no_framework_and_no_layer_above(path: Path) -> None:
    assert not imported(path) & NOT_IN_POLICY


@pytest.mark.parametrize("path", modules("bot"), ids=lambda p: p.name)
def test_bot_imports_no_adapter_and_no_chat_sdk(path: Path) -> None:
    assert not imported(path) & {"adapters", *SDKS}


@pytest.mark.parametrize(
    "path", [*modules("adapters"), *modules("bot"), *modules("policy")], ids=str
)
def test_each_chat_sdk_is_imported_only_inside_its_adapter(path: Path) -> None:
    where = path.relative_to(ROOT).as_posix()
    for sdk in imported(path) & set(SDKS):
        assert where.startswith(SDKS[sdk] + "/"), f"{where} imports {sdk}"
