"""What the tests of the named-code shortcut (attach_pg_named.py) share: the call, the
shortcut watched, what a code's attachment leaves in the database, calls run at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import xmltodict
from sqlalchemy import select

import promo_app.attach_pg
from promo_app.errors import PromoError
from promo_app.models import Attachment, Event, Profile, PromoCode

PATH = "/api/v1.1/promocodes/attach"


def post(client, body: dict, fmt: str = "json"):
    if fmt == "json":
        return client.post(PATH, json=body)
    return client.post(PATH, data=xmltodict.unparse({"xml": body}), content_type="application/xml")


class Shortcut:
    """attach_pg.try_attach, watched: what it answered call by call (None: it handed the
    call to the full path), or switched off (the full path alone, as before it)."""

    def __init__(self, monkeypatch) -> None:
        self.answers: list = []
        self.on = True
        real = promo_app.attach_pg.try_attach

        def watched(*args, **kwargs):
            try:
                result = real(*args, **kwargs) if self.on else None
            except PromoError as error:  # the full path's answer, given by the shortcut
                self.answers.append(error)
                raise
            self.answers.append(result)
            return result

        monkeypatch.setattr(promo_app.attach_pg, "try_attach", watched)


def attachment_and_event(session, code: str, profile_id: str) -> tuple:
    """What the database keeps of a code's attachment to a profile: the attachment, its
    event, the code's flag, all but ids, the code and times (the event's time is the
    attachment's)."""
    attachment = session.execute(
        select(Attachment.personal, Attachment.one_per_profile_loyalty_id, Attachment.attached)
        .join(Profile, Profile.id == Attachment.profile_pk)
        .join(PromoCode, PromoCode.id == Attachment.code_id)
        .where(PromoCode.code == code, Profile.profile_id == profile_id)
    ).one()
    event = session.execute(
        select(Event.kind, Event.actor, Event.db_id, Event.loyalty_id, Event.detail)
        .add_columns(Event.at == attachment.attached)
        .where(Event.code == code, Event.profile_id == profile_id)
    ).one()
    free = session.scalar(select(PromoCode.free).where(PromoCode.code == code))
    session.rollback()
    return tuple(attachment)[:2], tuple(event), free


def at_once(calls: list) -> list:
    """Run every call at the same moment, each in its own thread; their results in order."""
    start = threading.Barrier(len(calls))

    def one(call):
        start.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))
