"""Korean people and days, drawn believably: names, mobile phones, public holidays.

Shared by the demo district (:mod:`actions.demo`) and the Seoul simulation.
"""

from __future__ import annotations

import random

import holidays

__all__ = ["KOREAN_HOLIDAYS", "SURNAMES", "SYLLABLES", "korean_name", "mobile_phone"]

SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
SYLLABLES = "민서지현수영준우예진하은도윤성혜경미정숙희자순옥철호광석재"
KOREAN_HOLIDAYS = holidays.country_holidays("KR")


def korean_name(rng: random.Random) -> str:
    """A common surname and two given-name syllables (``김민서``)."""
    return rng.choice(SURNAMES) + rng.choice(SYLLABLES) + rng.choice(SYLLABLES)


def mobile_phone(rng: random.Random) -> str:
    """A mobile number in E.164 (``+821023450012``)."""
    # 010-2000 to 010-5899: libphonenumber counts some higher blocks as unassigned
    return f"+8210{rng.randint(2000, 5899)}{rng.randint(0, 9999):04d}"
