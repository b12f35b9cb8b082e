"""Reading an activity's JSON: the conversation reference read off the JSON is botbuilder's."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from adapters.teams.activities import job_for, reference_of
from adapters.teams.references import reference_from, serialized

MESSAGE: dict[str, Any] = {
    "type": "message",
    "id": "1712345",
    "channelId": "msteams",
    "serviceUrl": "https://smba.trafficmanager.net/amer/",
    "from": {"id": "29:1rep", "name": "Rita Rep", "aadObjectId": "0000-1"},
    "conversation": {"conversationType": "personal", "tenantId": "t1", "id": "a:1chat"},
    "recipient": {"id": "28:bot", "name": "Voicemail Coach"},
    "locale": "en-US",
    "text": "Jane Doe @ Acme",
    "channelData": {"tenant": {"id": "t1"}},
}


def test_the_reference_read_off_the_json_is_the_one_botbuilder_makes() -> None:
    activity = Activity().deserialize(MESSAGE)
    by_botbuilder = serialized(TurnContext.get_conversation_reference(activity))
    assert serialized(reference_from(reference_of(MESSAGE))) == by_botbuilder


def test_a_job_carries_the_reference_of_its_message() -> None:
    activity = Activity().deserialize(MESSAGE)
    job = job_for(activity, tenant="t1", manager=False, document=MESSAGE)
    reference = reference_from(job.reference)
    assert (reference.activity_id, reference.conversation.id) == ("1712345", "a:1chat")
    assert reference.service_url == MESSAGE["serviceUrl"]
    assert job.text == "Jane Doe @ Acme"
