import datetime as dt

import pandas as pd
import pytest

from soe_lib.core.weeks import parse_week, parse_weeks, week_label, week_labels, weeks_between


@pytest.mark.parametrize(
    "value, monday",
    [
        ("2026-W48", "2026-11-23"),
        ("2026w48", "2026-11-23"),
        ("2026-W48-5", "2026-11-23"),
        (" 2026-W01 ", "2025-12-29"),  # ISO week 1 of 2026 starts in December 2025
        ("2026-W53", "2026-12-28"),  # 2026 has 53 ISO weeks
        ("2026-11-27", "2026-11-23"),  # a Friday -> its Monday
        ("11/27/2026", "2026-11-23"),
        ("2027-01-01", "2026-12-28"),  # New Year's Day belongs to 2026-W53
        (dt.date(2026, 11, 29), "2026-11-23"),  # a Sunday closes its ISO week
        (pd.Timestamp("2026-11-23 17:45"), "2026-11-23"),
    ],
)
def test_parse_week_accepts_iso_weeks_and_dates(value, monday):
    assert parse_week(value) == pd.Timestamp(monday)


@pytest.mark.parametrize("bad", ["2025-W53", "2026-W00", "next week", "", "2026-13-45"])
def test_parse_week_rejects_what_is_not_a_week(bad):
    with pytest.raises(ValueError):
        parse_week(bad)


def test_parse_weeks_is_vectorised_and_marks_bad_values_nat():
    s = pd.Series(["2026-W48", "2026-11-24", None, "garbage", "2026-W48"])
    out = parse_weeks(s)
    assert out.dtype == "datetime64[ns]"
    assert out.iloc[0] == out.iloc[1] == out.iloc[4] == pd.Timestamp("2026-11-23")
    assert out.isna().tolist() == [False, False, True, True, False]


def test_parse_weeks_on_datetimes_normalises_to_monday():
    s = pd.Series(pd.to_datetime(["2026-11-29 00:00", "2026-11-23 08:00"]))
    assert (parse_weeks(s) == pd.Timestamp("2026-11-23")).all()


def test_labels_use_the_iso_year():
    assert week_label(pd.Timestamp("2025-12-29")) == "2026-W01"
    assert week_label(pd.Timestamp("2026-12-28")) == "2026-W53"
    labels = week_labels(pd.Series(pd.to_datetime(["2026-11-23", None, "2027-01-04"])))
    assert labels.tolist()[0] == "2026-W48" and pd.isna(labels.iloc[1]) and labels.iloc[2] == "2027-W01"


def test_weeks_between_counts_whole_weeks_across_year_end():
    assert weeks_between(parse_week("2027-W02"), parse_week("2026-W52")) == 3
    s = weeks_between(pd.Series([parse_week("2026-W50")]), pd.Series([parse_week("2026-W48")]))
    assert s.tolist() == [2]
    assert weeks_between(parse_week("2026-W48"), parse_week("2026-W48")) == 0


@pytest.mark.parametrize("due, expect", [("2026-W50", "2026-W50"), (" 2026-w48 ", "2026-W48"), ("2027-W01", "2027-W01"),
                                         ("next friday", "ISO week"), ("2026-12-14", "ISO week"), ("2026-W5", "ISO week"),
                                         ("2026-W54", "ISO week"), ("2026-W47", "before the meeting week")])
def test_a_due_week_is_an_iso_week_at_or_after_the_meeting(due, expect):
    from soe_lib.core.weeks import due_week

    if expect.startswith("20"):
        assert due_week("2026-W48", due) == expect
    else:
        with pytest.raises(ValueError, match=expect):
            due_week("2026-W48", due)
