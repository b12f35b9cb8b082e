"""The soak's traffic: reps with markers, the texts they type (valid and fuzzed), and the
Slack and Teams requests that carry them, signed as each platform signs them.

Every rep's prospects carry the rep's marker (`qz<tenant>k<rep>q`), so any marker found in a
reply tells whose data it holds (see `markers_in`).
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from adapters.teams.adapter import CARD_ACTION
from adapters.teams.cards import ACTION_ID, VALUE
from bench.slack_http import COMMAND, COMPANIES, FIRST_NAMES, LAST_NAMES, REFERRERS, SECRET
from bench.teams_http import APP_ID, Generator
from bot import replies
from policy.limits import MAX_COMMAND

SLACK, TEAMS = "slack", "teams"
MARKER = re.compile(r"qz(\d{2})k(\d{5})q", re.IGNORECASE)
PROSPECTS_PER_REP = 3
INJECTIONS = (
    "<script>alert(1)</script>",
    "'; DROP TABLE prospects; --",
    "{{7*7}} ${jndi:ldap://127.0.0.1/x} %s%s%n",
    "<!channel> <@U000ADMIN|admin> <https://example.invalid|click me>",
    "../../../../etc/passwd \\x00 %00",
    "FLUSHALL\r\nKEYS *\r\nDEL vc:*",
    '{"$gt": ""} __proto__ constructor.prototype',
    "*bold* _it_ ~strike~ `code` ```block``` > quote",
    "\u202eevil\u202c \u200b\u200d\ufeff",
    "@ @ @ referred by @ @",
)
ALPHABETS = (
    (0x20, 0x7E),  # ASCII
    (0xA0, 0x24F),  # Latin
    (0x370, 0x3FF),  # Greek
    (0x590, 0x6FF),  # Hebrew, Arabic
    (0x900, 0x97F),  # Devanagari
    (0x300, 0x36F),  # combining marks
    (0x4E00, 0x9FFF),  # CJK
    (0x1F300, 0x1FAFF),  # emoji
    (0x0, 0x1F),  # control characters
)


@dataclass(frozen=True)
class Rep:
    number: int
    tenant: int
    platform: str
    prospects: tuple[tuple[str, str], ...]

    @property
    def marker(self) -> str:
        return marker(self.tenant, self.number)

    @property
    def team_id(self) -> str:
        return f"TSOAK{self.tenant:02d}"

    @property
    def tenant_id(self) -> str:
        return str(uuid.UUID(int=(0x50A4 << 96) + self.tenant))

    @property
    def user_id(self) -> str:
        return f"USOAK{self.tenant:02d}{self.number:05d}"


def marker(tenant: int, rep: int) -> str:
    return f"Qz{tenant:02d}k{rep:05d}q"


def markers_in(text: str) -> set[tuple[int, int]]:
    """The (tenant, rep) of every marker in `text`."""
    return {(int(t), int(r)) for t, r in MARKER.findall(text)}


def make_reps(count: int, tenants: int, seed: int) -> list[Rep]:
    """Reps spread round-robin over the tenants; the first half of the tenants (rounded up)
    are Slack workspaces, the rest Teams tenants."""
    rng = random.Random(seed)
    slack_tenants = (tenants + 1) // 2
    reps = []
    for number in range(count):
        tenant = number % tenants
        prospects = tuple(
            (
                f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {marker(tenant, number)}"
                f"{'' if p == 0 else f' {p + 1}'}",
                rng.choice(COMPANIES),
            )
            for p in range(PROSPECTS_PER_REP)
        )
        platform = SLACK if tenant < slack_tenants else TEAMS
        reps.append(Rep(number, tenant, platform, prospects))
    return reps


# What reps type


def valid_text(rng: random.Random, rep: Rep) -> str:
    """A command the grammar accepts, about one of the rep's prospects: mostly a decision,
    sometimes the rep's queue, a prospect's history, or a logged outcome."""
    name, company = rng.choice(rep.prospects)
    roll = rng.random()
    if roll < 0.08:
        return "queue"
    if roll < 0.16:
        return f"history {name} @ {company}"
    if roll < 0.22:
        return f"log {name} @ {company} {rng.choice(('left', 'no-answer', 'live'))} soak note"
    extras = rng.choice(
        (
            "",
            ' demo "the Q3 rollout"',
            " new in role",
            " expecting reply",
            " client",
            " tz Europe/London",
        )
    )
    return f"{name} @ {company} referred by {rng.choice(REFERRERS)}{extras}"


def random_unicode(rng: random.Random, length: int) -> str:
    chars = []
    for _ in range(length):
        low, high = rng.choice(ALPHABETS)
        code = rng.randint(low, high)
        chars.append(chr(code) if not 0xD800 <= code <= 0xDFFF else "?")
    return "".join(chars)


def fuzzed_text(rng: random.Random, rep: Rep) -> str:
    """Text a careless or hostile rep types: random unicode, nothing, whitespace, a page of
    text just within MAX_COMMAND, or injection-looking strings (some around a real
    prospect of the rep's, so the answer may quote the marker)."""
    name, company = rng.choice(rep.prospects)
    roll = rng.random()
    if roll < 0.25:
        return random_unicode(rng, rng.randint(1, 300))
    if roll < 0.32:
        return ""
    if roll < 0.38:
        return rng.choice((" ", "\n\t  ", "\u3000\u00a0"))
    if roll < 0.55:
        head = f"{name} @ {company} referred by "
        return head + ("Tom " * MAX_COMMAND)[: MAX_COMMAND - len(head)]
    if roll < 0.65:
        return random_unicode(rng, MAX_COMMAND)
    injection = rng.choice(INJECTIONS)
    return rng.choice(
        (
            injection,
            f"{name} {injection} @ {company}",
            f"{name} @ {company} referred by {injection}",
        )
    )


# Requests


@dataclass
class Shot:
    """One request: where it goes, its body and headers (Slack's are signed when sent), the
    id its answer comes back under, and whether an answer is due at the fake (Slack's
    response_url, Teams' Bot Connector) or inline (a Teams invoke)."""

    rid: str
    kind: str  # command, click, fuzz
    rep: Rep
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    answer_at_fake: bool = True
    answer_inline: bool = False
    retries: int = 0

    def signed_headers(self) -> dict[str, str]:
        if self.rep.platform != SLACK:
            return self.headers
        stamp = str(int(time.time()))
        signature = str(
            SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=self.body)
        )
        retry = {"X-Slack-Retry-Num": str(self.retries), "X-Slack-Retry-Reason": "http_timeout"}
        return {
            **self.headers,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
            **(retry if self.retries else {}),
        }


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json; charset=utf-8"}


class Traffic:
    """Builds the soak's requests; `respond_url` is the fake response_url's base, and
    `service_url` the Bot Connector's the Teams activities name."""

    def __init__(self, respond_url: str, service_url: str, token: str) -> None:
        self.respond_url = respond_url
        self.teams = Generator(0, service_url, token)
        self.token = token
        self.count = 0

    def rid(self, kind: str) -> str:
        self.count += 1
        return f"{kind[0]}{self.count:07d}"

    def command(self, rep: Rep, text: str, kind: str) -> Shot:
        """`/voicemail <text>` in Slack; the message `<text>` in a Teams personal chat."""
        rid = self.rid(kind)
        if rep.platform == SLACK:
            # A bare /voicemail opens the form (views.open): no answer at the response_url.
            return Shot(
                rid,
                kind,
                rep,
                "/slack/events",
                self.slack_command(rep, text, rid),
                FORM,
                answer_at_fake=bool(text.strip()),
            )
        activity = self.activity(rep, rid)
        activity["text"] = text
        return Shot(rid, kind, rep, "/api/messages", json.dumps(activity).encode(), self.bearer())

    def click(self, rep: Rep, button: dict[str, Any]) -> Shot:
        """A check-in button from an answer: a Slack block_actions payload, or a Teams
        Action.Execute invoke (answered inline with the next card)."""
        rid = self.rid("click")
        if rep.platform == SLACK:
            return Shot(
                rid, "click", rep, "/slack/events", self.slack_click(rep, button, rid), FORM
            )
        activity = self.activity(rep, rid)
        activity |= {
            "type": "invoke",
            "name": CARD_ACTION,
            "value": {
                "action": {"type": "Action.Execute", "verb": button[ACTION_ID], "data": button}
            },
        }
        return Shot(
            rid,
            "click",
            rep,
            "/api/messages",
            json.dumps(activity).encode(),
            self.bearer(),
            answer_at_fake=False,
            answer_inline=True,
        )

    def bearer(self) -> dict[str, str]:
        return {**JSON, "Authorization": f"Bearer {self.token}"}

    def slack_command(self, rep: Rep, text: str, rid: str) -> bytes:
        return urlencode(
            {
                "token": "soak-verification-token",
                "team_id": rep.team_id,
                "team_domain": f"soak{rep.tenant:02d}",
                "channel_id": f"DSOAK{rep.number:05d}",
                "channel_name": "directmessage",
                "user_id": rep.user_id,
                "user_name": f"rep{rep.number:05d}",
                "command": COMMAND,
                "text": text,
                "api_app_id": "ASOAK",
                "is_enterprise_install": "false",
                "response_url": f"{self.respond_url}/{rid}",
                "trigger_id": f"{rid}.{rep.number}",
            }
        ).encode()

    def slack_click(self, rep: Rep, button: dict[str, Any], rid: str) -> bytes:
        payload = {
            "type": "block_actions",
            "team": {"id": rep.team_id, "domain": f"soak{rep.tenant:02d}"},
            "user": {"id": rep.user_id, "team_id": rep.team_id},
            "api_app_id": "ASOAK",
            "token": "soak-verification-token",
            "trigger_id": f"{rid}.{rep.number}",
            "response_url": f"{self.respond_url}/{rid}",
            "container": {"type": "message", "is_ephemeral": True},
            "channel": {"id": f"DSOAK{rep.number:05d}", "name": "directmessage"},
            "actions": [
                {
                    "type": "button",
                    "block_id": "soak",
                    "action_id": button["action_id"],
                    "value": button["value"],
                    "text": button.get("text") or {"type": "plain_text", "text": "Left it"},
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return urlencode({"payload": json.dumps(payload)}).encode()

    def activity(self, rep: Rep, rid: str) -> dict[str, Any]:
        """A personal-chat activity of bench/teams_http.py's, from this rep in its tenant."""
        activity = self.teams.activity(rid, 0, rep.number)
        activity["id"] = rid
        activity["from"] = {
            "id": f"29:1soak-rep-{rep.number:05d}",
            "name": f"Rep {rep.number:05d}",
            "aadObjectId": str(uuid.UUID(int=(0x50A4 << 96) + (1 << 32) + rep.number)),
        }
        activity["conversation"] = {
            "conversationType": "personal",
            "tenantId": rep.tenant_id,
            "id": f"a:1soak-personal-chat-{rep.number:05d}",
        }
        activity["recipient"] = {"id": f"28:{APP_ID}", "name": "Voicemail Coach"}
        activity["channelData"] = {"tenant": {"id": rep.tenant_id}}
        return activity


# Check-in buttons in answers


def slack_buttons(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The check-in buttons of a response_url answer's blocks."""
    found = []
    for block in answer.get("blocks") or ():
        for element in block.get("elements") or () if isinstance(block, dict) else ():
            action_id = str(element.get("action_id") or "") if isinstance(element, dict) else ""
            if action_id.split(":", 1)[0] == replies.CHECK_IN:
                found.append(element)
    return found


def teams_buttons(card: Any) -> list[dict[str, Any]]:
    """The data of every check-in Action.Execute anywhere in a card (or an activity)."""
    found: list[dict[str, Any]] = []
    stack: list[Any] = [card]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "Action.Execute" and item.get("verb") == replies.CHECK_IN:
                data = item.get("data")
                if isinstance(data, dict) and isinstance(data.get(VALUE), str):
                    found.append(data)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def pick(rng: random.Random, weights: Sequence[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in weights], [weight for _, weight in weights])[0]
