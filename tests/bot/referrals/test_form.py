from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ids import Ids
from bot.referrals.form import (
    CHOICE_FIELDS,
    TEXT_FIELDS,
    FormInvalid,
    ReferralForm,
    load_prompts,
    validate_referral_form,
)
from bot.slack.referral_form import DANGER_LINE, build_referral_form_view

TODAY = dt.date(2026, 11, 26)


def good(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        Ids.REFERRAL_GROUP: "child",
        Ids.REFERRAL_CATEGORY: "neglect",
        Ids.REFERRAL_URGENCY: "routine",
        Ids.REFERRAL_SUBJECT_NAME: "Sam Example",
        Ids.REFERRAL_DOB: "2015-03-01",
        Ids.REFERRAL_WHAT: "Arrives hungry every day.",
        Ids.REFERRAL_HOW_KNOWN: "Seen by staff",
        Ids.REFERRAL_REFERRER_ROLE: "Teacher",
        Ids.REFERRAL_REFERRER_AGENCY: "School",
        Ids.REFERRAL_REFERRER_CONTACT: "01621 000000",
        Ids.REFERRAL_CONSENT: "given",
    }
    raw.update({str(k): v for k, v in overrides.items()})
    return {str(k): v for k, v in raw.items()}


def test_a_good_form_validates() -> None:
    form = validate_referral_form(good(), today=TODAY)
    assert form.subject_dob == dt.date(2015, 3, 1)
    assert form.consent_reason is None


def test_future_dob_and_missing_fields_are_field_errors() -> None:
    raw = good(**{Ids.REFERRAL_DOB: "2027-01-01", Ids.REFERRAL_WHAT: "  "})
    with pytest.raises(FormInvalid) as err:
        validate_referral_form(raw, today=TODAY)
    assert set(err.value.errors) == {Ids.REFERRAL_DOB, Ids.REFERRAL_WHAT}
    assert "future" in err.value.errors[Ids.REFERRAL_DOB]


def test_consent_reason_needed_when_not_sought_or_refused() -> None:
    for consent in ("not_sought", "refused"):
        with pytest.raises(FormInvalid) as err:
            validate_referral_form(good(**{Ids.REFERRAL_CONSENT: consent}), today=TODAY)
        assert list(err.value.errors) == [Ids.REFERRAL_CONSENT_REASON]
    ok = good(**{Ids.REFERRAL_CONSENT: "refused", Ids.REFERRAL_CONSENT_REASON: "Risk of harm"})
    assert validate_referral_form(ok, today=TODAY).consent_reason == "Risk of harm"


def test_dob_must_match_child_or_adult() -> None:
    with pytest.raises(FormInvalid) as err:
        validate_referral_form(good(**{Ids.REFERRAL_GROUP: "adult"}), today=TODAY)
    assert Ids.REFERRAL_DOB in err.value.errors


def test_errors_never_repeat_the_input() -> None:
    marker = "QZXMARKERQZX"
    raw = {k: marker * 400 for k in good()}
    raw[Ids.REFERRAL_DOB] = marker
    with pytest.raises(FormInvalid) as err:
        validate_referral_form(raw, today=TODAY)
    assert marker not in str(err.value)
    assert all(marker not in m for m in err.value.errors.values())
    assert set(err.value.errors) >= {str(b) for b, _ in CHOICE_FIELDS.values()}


NASTY = st.sampled_from(
    [
        "",
        "x" * 3000,
        "😀" * 100,
        "مرحبا بالعالم",
        "'; DROP TABLE referral; --",
        '{"type":"section","text":{"type":"mrkdwn","text":"<!channel>"}}',
        "<!here> *bold* ```code```",
        "\u202eevil",
        "2026-02-30",
    ]
)
FIELD_VALUE = st.one_of(st.none(), st.text(max_size=50), NASTY)
BLOCKS = [str(b) for b, _, _ in TEXT_FIELDS.values()] + [str(b) for b, _ in CHOICE_FIELDS.values()]


@given(
    base=st.booleans(),
    changes=st.dictionaries(st.sampled_from([*BLOCKS, str(Ids.REFERRAL_DOB)]), FIELD_VALUE),
)
def test_fuzzed_answers_give_a_form_or_field_errors(base: bool, changes: dict[str, Any]) -> None:
    raw = good() if base else {}
    raw.update(changes)
    try:
        form = validate_referral_form(raw, today=TODAY)
    except FormInvalid as err:
        assert err.errors
        assert set(err.errors) <= {*BLOCKS, str(Ids.REFERRAL_DOB)}
        assert all(len(m) < 300 for m in err.errors.values())
    else:
        assert isinstance(form, ReferralForm)
        assert len(form.what_happened) <= 3000


def test_modal_starts_with_999_and_respects_limits() -> None:
    view = build_referral_form_view().to_dict()
    assert DANGER_LINE in view["blocks"][0]["text"]["text"]
    assert len(view["title"]["text"]) <= 24
    assert len(view["blocks"]) <= 100
    ids = {b.get("block_id") for b in view["blocks"]}
    assert {str(b) for b in BLOCKS} <= ids


def test_prompts_by_category_and_group() -> None:
    fgm_child = load_prompts("child", "fgm")
    assert any("101" in p for p in fgm_child)
    assert not any("101" in p for p in load_prompts("adult", "fgm"))
    assert any("Channel" in p for p in load_prompts("adult", "radicalisation"))
    assert any("MARAC" in p for p in load_prompts("adult", "domestic_abuse"))
    assert any("s.42" in p for p in load_prompts("adult", "financial"))
    assert any("Home Office" in p for p in load_prompts("child", "modern_slavery"))


def test_every_field_error_comes_back_at_once() -> None:
    raw = good(
        **{
            Ids.REFERRAL_DOB: "2027-01-01",
            Ids.REFERRAL_CONSENT: "refused",
            Ids.REFERRAL_HOW_KNOWN: "",
            Ids.REFERRAL_REFERRER_CONTACT: "x" * 301,
        }
    )
    with pytest.raises(FormInvalid) as err:
        validate_referral_form(raw, today=TODAY)
    assert set(err.value.errors) == {
        Ids.REFERRAL_DOB,
        Ids.REFERRAL_CONSENT_REASON,
        Ids.REFERRAL_HOW_KNOWN,
        Ids.REFERRAL_REFERRER_CONTACT,
    }


def test_the_lawful_reason_field_says_when_it_is_required() -> None:
    (block,) = [
        b
        for b in build_referral_form_view().to_dict()["blocks"]
        if b.get("block_id") == Ids.REFERRAL_CONSENT_REASON
    ]
    assert "required if consent was not sought or was refused" in block["label"]["text"]
    assert block["hint"]["text"].startswith("Required if consent was not sought or was refused")


def test_modal_errors_are_plain_text() -> None:
    from bot.slack.referral_form import plain_error

    text = plain_error(
        "<@U0MEMBER> is not a safeguarding lead; ask with `/csp role` or see "
        "<https://example.org|the policy> *now*."
    )
    assert text == (
        "That person is not a safeguarding lead; ask with /csp role or see the policy now."
    )
    assert len(plain_error("word " * 200)) <= 300


def test_escalations_say_how_long_the_referral_has_waited() -> None:
    import datetime as dt

    from bot.slack.referral_alerts import escalation_text, waited_for

    raised = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
    assert waited_for(raised, raised + dt.timedelta(minutes=30)) == "30 minutes"
    assert waited_for(raised, raised + dt.timedelta(hours=5)) == "5 hours"
    assert waited_for(raised, raised + dt.timedelta(days=3, hours=2)) == "3 days"
    text = escalation_text("SG-2026-0001", "fgm", "immediate", "5 hours")
    assert "still not acknowledged, 5 hours after it was raised" in text
    assert "reminder" not in text
