"""Referral vocabulary: groups, categories, urgency, consent, where referred on, states, labels."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final


class SubjectGroup(StrEnum):
    CHILD = "child"
    ADULT = "adult"


class Category(StrEnum):
    EXPLOITATION = "exploitation"
    FGM = "fgm"
    MODERN_SLAVERY = "modern_slavery"
    RADICALISATION = "radicalisation"
    DOMESTIC_ABUSE = "domestic_abuse"
    NEGLECT = "neglect"
    PHYSICAL = "physical"
    SEXUAL = "sexual"
    PSYCHOLOGICAL = "psychological"
    FINANCIAL = "financial"
    SELF_NEGLECT = "self_neglect"
    OTHER = "other"


class Urgency(StrEnum):
    IMMEDIATE = "immediate"
    WITHIN_24H = "within_24h"
    ROUTINE = "routine"


class Consent(StrEnum):
    GIVEN = "given"
    NOT_SOUGHT = "not_sought"
    REFUSED = "refused"


class ReferOn(StrEnum):
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    ADULT_SOCIAL_CARE = "adult_social_care"
    POLICE = "police"
    MARAC = "marac"
    CHANNEL = "channel"
    OTHER = "other"


class AlertRoute(StrEnum):
    """Where a new referral's alert goes."""

    CHANNEL = "channel"  # the safeguarding channel
    DIRECT = "direct"  # each safeguarding lead by DM (no channel, or it refused the post)
    NOBODY = "nobody"  # there are no safeguarding leads: the admins are told instead


class Status(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    REFERRED_ON = "referred_on"
    CLOSED = "closed"


GROUP_LABELS: Final = {SubjectGroup.CHILD: "Child", SubjectGroup.ADULT: "Adult"}
CATEGORY_LABELS: Final = {
    Category.EXPLOITATION: "CSE and exploitation",
    Category.FGM: "FGM",
    Category.MODERN_SLAVERY: "Modern slavery and trafficking",
    Category.RADICALISATION: "Radicalisation (Prevent)",
    Category.DOMESTIC_ABUSE: "Domestic abuse",
    Category.NEGLECT: "Neglect",
    Category.PHYSICAL: "Physical abuse",
    Category.SEXUAL: "Sexual abuse",
    Category.PSYCHOLOGICAL: "Psychological abuse",
    Category.FINANCIAL: "Financial abuse",
    Category.SELF_NEGLECT: "Self-neglect",
    Category.OTHER: "Other",
}
URGENCY_LABELS: Final = {
    Urgency.IMMEDIATE: "Immediate risk",
    Urgency.WITHIN_24H: "Within 24 hours",
    Urgency.ROUTINE: "Routine",
}
CONSENT_LABELS: Final = {
    Consent.GIVEN: "Consent given",
    Consent.NOT_SOUGHT: "Consent not sought",
    Consent.REFUSED: "Consent refused",
}
REFER_ON_LABELS: Final = {
    ReferOn.CHILDRENS_SOCIAL_CARE: "Children's social care",
    ReferOn.ADULT_SOCIAL_CARE: "Adult social care",
    ReferOn.POLICE: "Police",
    ReferOn.MARAC: "MARAC",
    ReferOn.CHANNEL: "Channel",
    ReferOn.OTHER: "Other",
}
STATUS_LABELS: Final = {
    Status.OPEN: "Awaiting acknowledgement",
    Status.ACKNOWLEDGED: "Acknowledged",
    Status.ASSIGNED: "Assigned",
    Status.REFERRED_ON: "Referred on",
    Status.CLOSED: "Closed",
}


def label(value: str, labels: Mapping[Any, str]) -> str:
    return labels.get(value, value.replace("_", " ").capitalize())
