"""An attorney's own time zone and local date (issue 12: "today" is the attorney's today).

The zone is the one the attorney chose on their profile, else their home ZIP's (the `zipcodes`
package ships one per ZIP), else the site's TIME_ZONE. Use `attorney_localdate` wherever a date
an attorney typed is compared with "today" (pause dates, logged hours), and `attorney_zone` to
show them times (offer deadlines) in their zone.
"""

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import zipcodes
from django.conf import settings
from django.utils import timezone

# The zones an attorney can pick (US states and territories), by their everyday names.
US_TIME_ZONES = [
    ("America/New_York", "Eastern (New York)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Phoenix", "Mountain, no daylight saving (Phoenix)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
    ("America/Puerto_Rico", "Atlantic (Puerto Rico, US Virgin Islands)"),
    ("Pacific/Guam", "Chamorro (Guam, Northern Mariana Islands)"),
]


@lru_cache(maxsize=4096)
def zip_time_zone(zip_code: str) -> str | None:
    """The ZIP's IANA zone name, or None for an unknown ZIP or one the package lists without a
    valid zone (a few hundred have none)."""
    try:
        found = zipcodes.matching(zip_code)
    except (TypeError, ValueError):
        return None
    name = found[0].get("timezone", "") if found else ""
    return name if name and _zone(name) is not None else None


def attorney_zone(attorney) -> ZoneInfo:
    """The attorney's chosen zone, else their ZIP's, else the site's."""
    for name in (attorney.time_zone, zip_time_zone(attorney.home_zip)):
        zone = _zone(name) if name else None
        if zone is not None:
            return zone
    return ZoneInfo(settings.TIME_ZONE)


def attorney_localdate(attorney, *, now: datetime | None = None) -> date:
    """Today's date where the attorney is (not where the server or New York is)."""
    return timezone.localtime(now or timezone.now(), attorney_zone(attorney)).date()


# Any attorney's date is within this of the site's date (zones differ by less than 26 hours):
# a query on the site's date with this margin finds every attorney whose own date may match.
DATE_MARGIN = timedelta(days=2)


def attorney_paused(attorney, *, now: datetime | None = None) -> bool:
    """Paused today, where the attorney is: `paused_until` (the first day back) is after their
    own date. `attorney` needs `paused_until`, `time_zone` and `home_zip` (a row will do)."""
    until = attorney.paused_until
    return until is not None and until > attorney_localdate(attorney, now=now)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
