"""Contact search and time-aware ranking with a fixed clock (Europe/London)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from bot.contacts import is_bank_holiday, is_open, search
from dialogs.content import Content

LONDON = dt.timezone(dt.timedelta(0))  # November/December: GMT
MONDAY_10AM = dt.datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
MONDAY_7PM = dt.datetime(2026, 11, 23, 19, 0, tzinfo=LONDON)
FRIDAY_4_45PM = dt.datetime(2026, 11, 27, 16, 45, tzinfo=LONDON)
SATURDAY_NIGHT = dt.datetime(2026, 11, 21, 22, 30, tzinfo=LONDON)
CHRISTMAS_11AM = dt.datetime(2026, 12, 25, 11, 0, tzinfo=LONDON)
BOXING_DAY_SUBSTITUTE = dt.datetime(2026, 12, 28, 10, 0, tzinfo=LONDON)  # Monday, bank holiday in England


def first(content: Content, query: str, area: str | None, at: dt.datetime) -> str:
    return search(content, query, area=area, at=at)[0].contact.id


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (MONDAY_10AM, "leeds_duty_advice"),
        (MONDAY_7PM, "leeds_edt"),
        (FRIDAY_4_45PM, "leeds_edt"),
        (SATURDAY_NIGHT, "leeds_edt"),
        (CHRISTMAS_11AM, "leeds_edt"),
        (BOXING_DAY_SUBSTITUTE, "leeds_edt"),
    ],
    ids=["weekday", "evening", "friday-after-4.30", "saturday-night", "christmas", "substitute-bank-holiday"],
)
def test_leeds_social_care_puts_the_open_service_first(content: Content, at: dt.datetime, expected: str) -> None:
    assert first(content, "social care", "leeds", at) == expected


def test_out_of_hours_on_saturday_night_in_leeds_is_the_emergency_duty_team(content: Content) -> None:
    assert first(content, "out of hours", "leeds", SATURDAY_NIGHT) == "leeds_edt"


def test_out_of_hours_while_offices_are_open_puts_the_daytime_service_first(content: Content) -> None:
    ids = [m.contact.id for m in search(content, "out of hours number", area="leeds", at=MONDAY_10AM)]
    assert ids[:1] == ["leeds_duty_advice"] and "leeds_edt" in ids


def test_out_of_hours_in_kent(content: Content) -> None:
    assert first(content, "out of hours", "kent", SATURDAY_NIGHT) == "kent_out_of_hours"


def test_area_named_in_the_query_narrows_the_search(content: Content) -> None:
    assert first(content, "out of hours leeds", None, SATURDAY_NIGHT) == "leeds_edt"
    assert first(content, "front door kent", None, MONDAY_10AM) == "kent_front_door"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("childline", "childline"),
        ("chidline", "childline"),
        ("samaritans", "samaritans"),
        ("police non emergency", "police_101"),
        ("ceop", "ceop"),
        ("report remove", "report_remove"),
        ("take it down", "take_it_down"),
        ("nspcc", "nspcc_helpline"),
        ("duty and advice", "leeds_duty_advice"),
        ("0800 1111", "childline"),
    ],
)
def test_names_aliases_and_numbers_find_the_contact(content: Content, query: str, expected: str) -> None:
    assert first(content, query, None, MONDAY_10AM) == expected


@pytest.mark.parametrize(
    ("old_number", "current"),
    [("0844 892 0240", "childline"), ("0113 376 0469", "leeds_edt")],
)
def test_a_superseded_seed_number_leads_to_the_current_contact(content: Content, old_number: str, current: str) -> None:
    match = search(content, old_number, area=None, at=MONDAY_10AM)[0]
    assert match.contact.id == current
    assert match.superseded.startswith(old_number)
    assert old_number.replace(" ", "") not in match.contact.phone.replace(" ", "")


def test_opening_hours_and_bank_holidays(content: Content) -> None:
    duty = content.contacts_for("leeds")["leeds_duty_advice"]
    assert is_open(duty, MONDAY_10AM) and not is_open(duty, MONDAY_7PM)
    assert not is_open(duty, CHRISTMAS_11AM) and is_bank_holiday(CHRISTMAS_11AM.date())
    assert is_open(content.contacts_for("national")["childline"], CHRISTMAS_11AM)


def test_summer_time_is_london_time(content: Content) -> None:
    duty = content.contacts_for("leeds")["leeds_duty_advice"]
    # 08:30 UTC on a July Monday is 09:30 in London (BST): open. 16:30 UTC is 17:30 BST: closed.
    assert is_open(duty, dt.datetime(2026, 7, 6, 8, 30, tzinfo=dt.UTC))
    assert not is_open(duty, dt.datetime(2026, 7, 6, 16, 30, tzinfo=dt.UTC))


def test_contacts_command_json_shape_and_out_of_hours(content: Content) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "contacts",
            "out of hours",
            "--area",
            "leeds",
            "--at",
            "2026-11-21T22:30",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    results = json.loads(run.stdout)
    assert results[0]["id"] == "leeds_edt" and results[0]["open_now"] is True
    assert set(results[0]) >= {"id", "name", "phone", "url", "audience", "open_now", "hours", "source", "checked"}


def test_contacts_command_rejects_an_unknown_area() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "contacts", "x", "--area", "york"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 2 and "kent, leeds, national" in run.stderr


def test_the_bank_holiday_table_in_content_matches_the_holidays_package() -> None:
    import holidays

    from dialogs.content import load_bank_holidays

    table = load_bank_holidays()
    years = range(table.first_year, table.last_year + 1)
    assert table.covers(2026) and table.covers(2027)
    assert set(table.dates) == set(holidays.country_holidays("GB", subdiv="ENG", years=years))


def test_years_outside_the_table_ask_the_holidays_package() -> None:
    assert is_bank_holiday(dt.date(2045, 12, 25)) and not is_bank_holiday(dt.date(2045, 12, 27))
