"""Durations and sizes as users write them (`assay.model.units`)."""

from __future__ import annotations

import math

import pytest

from assay.model.units import format_duration, parse_duration, parse_size

UNITS_HINT = "use seconds or the units ms, s, m, h, d, w (e.g. 5s, 250ms, 1m30s)"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5s", 5.0),
        ("250ms", 0.25),
        ("1m30s", 90.0),
        ("1h2m3s", 3723.0),
        ("2.5s", 2.5),
        ("1.5m", 90.0),
        ("1h", 3600.0),
        ("1s500ms", 1.5),
        (" 1m 30s ", 90.0),
        ("3", 3.0),
        ("0.25", 0.25),
        ("1e1", 10.0),
        (3, 3.0),
        (0.5, 0.5),
    ],
    ids=[
        "seconds",
        "millis",
        "compound",
        "hms",
        "fraction",
        "fraction-minutes",
        "hours",
        "seconds-and-millis",
        "spaces",
        "string-int",
        "string-float",
        "exponent",
        "int",
        "float",
    ],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5x", f"invalid duration '5x': {UNITS_HINT}"),
        ("s", f"invalid duration 's': {UNITS_HINT}"),
        ("1m30", f"invalid duration '1m30': {UNITS_HINT}"),
        ("5 parsecs", f"invalid duration '5 parsecs': {UNITS_HINT}"),
        ("", f"invalid duration '': {UNITS_HINT}"),
        ("-1s", f"invalid duration '-1s': {UNITS_HINT}"),
        ("0", "invalid duration '0': must be greater than zero"),
        ("0s", "invalid duration '0s': must be greater than zero"),
        (0, "invalid duration 0: must be greater than zero"),
        (-2.5, "invalid duration -2.5: must be greater than zero"),
        (True, "invalid duration True: expected e.g. 5s, 250ms or 1m30s"),
        (None, "invalid duration None: expected e.g. 5s, 250ms or 1m30s"),
        ([5], "invalid duration [5]: expected e.g. 5s, 250ms or 1m30s"),
    ],
    ids=[
        "unknown-unit",
        "unit-only",
        "trailing-number",
        "words",
        "empty",
        "negative-with-unit",
        "zero-string",
        "zero-seconds",
        "zero",
        "negative",
        "boolean",
        "none",
        "list",
    ],
)
def test_parse_duration_rejects(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == message


@pytest.mark.parametrize("value", ["nan", math.nan], ids=["string", "float"])
def test_parse_duration_rejects_nan(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize(
    "value", ["inf", "1e999", math.inf], ids=["string", "overflowing-string", "float"]
)
def test_parse_duration_rejects_infinity(value: object) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == f"invalid duration {value!r}: must be a finite number of seconds"


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (0, 0),
        (4096, 4096),
        ("100", 100),
        ("100B", 100),
        ("64k", 64 * 1024),
        ("64K", 64 * 1024),
        ("2KB", 2000),
        ("2KiB", 2048),
        ("512M", 512 * 1024**2),
        ("512MiB", 512 * 1024**2),
        ("3MB", 3 * 1000**2),
        ("1G", 1024**3),
        ("1gib", 1024**3),
        ("1GB", 1000**3),
        (" 10 MiB ", 10 * 1024**2),
    ],
    ids=[
        "zero",
        "int",
        "string",
        "bytes",
        "k",
        "K",
        "KB-decimal",
        "KiB",
        "M",
        "MiB",
        "MB-decimal",
        "G",
        "lowercase",
        "GB-decimal",
        "spaces",
    ],
)
def test_parse_size(value: object, size: int) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize(
    "value",
    [-1, 1.5, True, None, "lots", "1.5G", "2TB", "G", "", "-5M"],
    ids=[
        "negative",
        "float",
        "boolean",
        "none",
        "word",
        "fraction",
        "tera",
        "unit-only",
        "empty",
        "negative-string",
    ],
)
def test_parse_size_rejects(value: object) -> None:
    with pytest.raises(ValueError) as caught:
        parse_size(value)
    assert str(caught.value) == f"invalid size {value!r}: expected bytes or e.g. 512MiB, 2G, 64k"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0ms"),
        (0.0004, "0ms"),
        (0.85, "850ms"),
        (1.0, "1.00s"),
        (2.5, "2.50s"),
        (59.5, "59.50s"),
        (60.0, "1m00s"),
        (65.0, "1m05s"),
        (3725.0, "1h02m"),
    ],
    ids=[
        "zero",
        "tiny",
        "millis",
        "one-second",
        "seconds",
        "under-a-minute",
        "minute",
        "minute-and-seconds",
        "over-an-hour",
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_duration_rounds_into_the_next_minute() -> None:
    assert format_duration(119.6) == "2m00s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.9996, "1.00s"), (0.9994, "999ms"), (59.996, "1m00s"), (59.994, "59.99s")],
    ids=["into-seconds", "below-a-second", "into-minutes", "below-a-minute"],
)
def test_format_duration_rounds_before_choosing_the_unit(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(3600, "1h00m"), (7500, "2h05m"), (86_400 * 30, "30d"), (86_400 + 6 * 3600, "1d06h")],
    ids=["an-hour", "hours-and-minutes", "whole-days", "days-and-hours"],
)
def test_format_duration_of_hours_and_days(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 30 * 86_400.0), ("2w", 14 * 86_400.0), ("1d12h", 36 * 3600.0)],
    ids=["days", "weeks", "days-and-hours"],
)
def test_parse_duration_in_days_and_weeks(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
