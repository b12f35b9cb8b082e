"""Secrets at rest: sealed with the first key of VOICEMAIL_COACH_SECRET_KEYS, opened by any."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

from bot.secrets import (
    KEYS_VARIABLE,
    SecretBox,
    SecretKeysInvalid,
    SecretUnreadable,
    is_sealed,
)
from tests.bot.conftest import VOICEMAIL_COACH, free_port, quiet_env


def key_text(key_id: str, seed: int) -> str:
    return f"{key_id}:{base64.b64encode(bytes([seed]) * 32).decode()}"


def box_of(*keys: str) -> SecretBox:
    box = SecretBox.from_env({KEYS_VARIABLE: ",".join(keys)})
    assert box is not None
    return box


K1, K2 = key_text("k1", 1), key_text("k2", 2)


def test_a_sealed_value_names_its_key_and_hides_the_value() -> None:
    sealed = box_of(K1).seal("xoxb-secret", "T1/bot_token")
    assert is_sealed(sealed) and sealed["key_id"] == "k1"
    assert "xoxb-secret" not in repr(sealed)
    assert box_of(K1).open(sealed, "T1/bot_token") == "xoxb-secret"


def test_each_seal_is_different() -> None:
    box = box_of(K1)
    assert box.seal("xoxb-secret", "T1/bot_token") != box.seal("xoxb-secret", "T1/bot_token")


def test_a_value_sealed_with_an_old_key_opens_after_a_new_key_comes_first() -> None:
    old = box_of(K1).seal("xoxb-secret", "T1/bot_token")
    rotated = box_of(K2, K1)
    assert rotated.open(old, "T1/bot_token") == "xoxb-secret"
    assert rotated.seal("xoxb-secret", "T1/bot_token")["key_id"] == "k2"


def test_a_value_whose_key_was_dropped_is_refused() -> None:
    old = box_of(K1).seal("xoxb-secret", "T1/bot_token")
    with pytest.raises(SecretUnreadable, match="k1"):
        box_of(K2).open(old, "T1/bot_token")


def test_a_tampered_value_is_refused() -> None:
    sealed = box_of(K1).seal("xoxb-secret", "T1/bot_token")
    raw = bytearray(base64.b64decode(sealed["aes_gcm"]))
    raw[-1] ^= 1
    tampered = {**sealed, "aes_gcm": base64.b64encode(bytes(raw)).decode()}
    with pytest.raises(SecretUnreadable):
        box_of(K1).open(tampered, "T1/bot_token")


def test_a_value_moved_to_another_tenant_or_field_is_refused() -> None:
    box = box_of(K1)
    sealed = box.seal("xoxb-secret", "T1/bot_token")
    for context in ("T2/bot_token", "T1/user_token"):
        with pytest.raises(SecretUnreadable):
            box.open(sealed, context)


@pytest.mark.parametrize(
    "broken",
    [{"key_id": "k1"}, {"key_id": "k1", "aes_gcm": "not base64!"}, {"aes_gcm": ""}, "plain"],
)
def test_a_malformed_value_is_refused(broken: object) -> None:
    with pytest.raises(SecretUnreadable):
        box_of(K1).open(broken, "T1/bot_token")


def test_no_keys_means_no_box() -> None:
    assert SecretBox.from_env({}) is None
    assert SecretBox.from_env({KEYS_VARIABLE: " "}) is None


@pytest.mark.parametrize(
    "setting",
    [
        "no-colon",
        "k1:" + base64.b64encode(b"short").decode(),
        "k1:%%%",
        ":" + base64.b64encode(bytes(32)).decode(),
        f"{K1},{K1}",
    ],
    ids=["no key id", "short key", "not base64", "empty key id", "key id twice"],
)
def test_a_bad_setting_is_refused_naming_the_variable_never_the_value(setting: str) -> None:
    with pytest.raises(SecretKeysInvalid) as raised:
        SecretBox.from_env({KEYS_VARIABLE: setting})
    message = str(raised.value)
    assert KEYS_VARIABLE in message
    secret_part = setting.partition(":")[2].split(",")[0]
    assert not secret_part or secret_part not in message


def test_the_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYS_VARIABLE, K1)
    box = SecretBox.from_env()
    assert box is not None and box.key_ids == ("k1",)
    monkeypatch.delenv(KEYS_VARIABLE)
    assert SecretBox.from_env(os.environ) is None


def test_a_service_with_an_unusable_key_stops_with_one_line_naming_the_variable(
    tmp_path: Path,
) -> None:
    env = quiet_env(
        HOME=str(tmp_path),
        VOICEMAIL_COACH_DB=str(tmp_path / "store.db"),
        SLACK_SIGNING_SECRET="signing",
        SLACK_CLIENT_ID="1.2",
        SLACK_CLIENT_SECRET="client-secret",
        SLACK_API_URL="http://127.0.0.1:9/api/",
        **{KEYS_VARIABLE: "k1:" + base64.b64encode(b"short-key-secret").decode()[:-2]},
    )
    done = subprocess.run(
        [str(VOICEMAIL_COACH), "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"{KEYS_VARIABLE}: key 'k1'" in done.stderr.strip().splitlines()[-1]
    assert env[KEYS_VARIABLE].partition(":")[2] not in done.stdout + done.stderr
