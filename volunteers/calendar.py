"""The attorneys' hearing calendar: a secret, revocable iCalendar (RFC 5545) feed URL.

Pure: tokens in, hashes out; events in, bytes out. The events come from
volunteers.selectors.attorney_calendar_events, which names each by case reference, court and
kind only, since calendars get shared.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

PRODID = "-//Pro Bono Match//Hearing calendar//EN"
UID_DOMAIN = "probono-match"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    day: date
    summary: str
    description: str


def calendar_token_hash(token: str) -> str:
    """What the database keeps of a calendar token (volunteers.models.CalendarFeed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_ics(events: Iterable[CalendarEvent], *, now: datetime) -> bytes:
    """All-day events (hearing times change and are not recorded), stable UIDs, so that a
    calendar app updates an event when its date moves instead of adding another."""
    from icalendar import Calendar, Event  # here: ~0.1 s at every process's start-up

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Pro Bono Match: hearings and deadlines")
    for item in events:
        event = Event()
        event.add("uid", f"{item.uid}@{UID_DOMAIN}")
        event.add("dtstamp", now)
        event.add("dtstart", item.day)
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
