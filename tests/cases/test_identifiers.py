"""A-number normalisation (SEC-18): examples first, then properties."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cases.identifiers import (
    SEPARATORS,
    InvalidANumber,
    format_a_number,
    is_canonical_a_number,
    normalize_a_number,
    scrub_a_numbers,
)

# ---------------------------------------------------------------------------------------------
# Examples


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("A-123-456-789", "123456789"),
        ("a123456789", "123456789"),
        ("12345678", "012345678"),
        ("A 012 345 678", "012345678"),
        ("A12345678", "012345678"),
        ("  A-012-345-678  ", "012345678"),
        ("A\u2013012\u2013345\u2013678", "012345678"),  # en dashes pasted from a word processor
        ("000000001", "000000001"),
    ],
)
def test_it_normalizes_common_spellings(value, canonical):
    assert normalize_a_number(value) == canonical


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "A",
        "A-",
        "1234567",  # 7 digits
        "1234567890",  # 10 digits
        "A-1234-567",
        "00000000",
        "A-000-000-000",
        "B123456789",
        "12345678A",
        "123-45X-789",
        "AA123456789",
        "A#123456789",
        "123.456.789",
        "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",  # Arabic-Indic digits
        "\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8",  # Extended Arabic-Indic, 8 digits
        "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19",  # fullwidth digits
        "12345678\u0669",  # one non-ASCII digit among ASCII ones
        "1" * 200,
    ],
)
def test_it_rejects_malformed_values(value):
    with pytest.raises(InvalidANumber):
        normalize_a_number(value)


def test_it_rejects_non_strings():
    with pytest.raises(InvalidANumber):
        normalize_a_number(123456789)  # type: ignore[arg-type]


def test_invalid_a_number_is_a_value_error_with_a_stable_code():
    with pytest.raises(ValueError, match="8 or 9 digits") as caught:
        normalize_a_number("12")
    assert caught.value.code == "invalid_a_number"


def test_the_error_never_echoes_the_confidential_value():
    secret = "A-987-654-32X"
    with pytest.raises(InvalidANumber) as caught:
        normalize_a_number(secret)
    shown = str(caught.value) + repr(caught.value) + repr(caught.value.args)
    assert "987" not in shown
    assert "32X" not in shown


def test_it_formats_for_display():
    assert format_a_number("012345678") == "A-012-345-678"


@pytest.mark.parametrize("value", ["12345678", "A-012-345-678", "000000000", "01234567x", ""])
def test_format_rejects_anything_not_canonical(value):
    with pytest.raises(InvalidANumber):
        format_a_number(value)


# ---------------------------------------------------------------------------------------------
# Properties

_digits8or9 = st.text(alphabet="0123456789", min_size=8, max_size=9).filter(
    lambda d: d.strip("0") != ""
)
_canonical = st.text(alphabet="0123456789", min_size=9, max_size=9).filter(
    lambda d: d.strip("0") != ""
)
_separator_run = st.text(alphabet=sorted(SEPARATORS), max_size=2)


@st.composite
def valid_spellings(draw, digits=_digits8or9):
    """Any spelling in use: optional A/a, separators anywhere. Returns (text, canonical)."""
    number = draw(digits)
    prefix = draw(st.sampled_from(["", "A", "a"]))
    parts = [draw(_separator_run), prefix]
    for digit in number:
        parts += [draw(_separator_run), digit]
    parts.append(draw(_separator_run))
    return "".join(parts), number.zfill(9)


def oracle(value: str) -> str | None:
    """An independent, deliberately naive reading of the rule, to check the implementation by."""
    compact = [ch for ch in value if ch not in SEPARATORS]
    if compact and compact[0] in "Aa":
        compact = compact[1:]
    if len(compact) not in (8, 9) or any(ch not in "0123456789" for ch in compact):
        return None
    if all(ch == "0" for ch in compact):
        return None
    return "".join(compact).zfill(9)


@given(valid_spellings())
def test_any_valid_spelling_normalizes_to_its_canonical_form(spelling):
    text, canonical = spelling
    assert normalize_a_number(text) == canonical


@given(valid_spellings())
def test_normalize_is_idempotent(spelling):
    text, _ = spelling
    once = normalize_a_number(text)
    assert normalize_a_number(once) == once
    assert is_canonical_a_number(once)


@given(_canonical)
def test_format_round_trips(canonical):
    shown = format_a_number(canonical)
    assert normalize_a_number(shown) == canonical
    assert format_a_number(normalize_a_number(shown)) == shown


@given(st.text(alphabet="0123456789", min_size=8, max_size=8).filter(lambda d: d.strip("0")))
def test_an_8_digit_number_equals_its_zero_padded_9_digit_form(digits):
    assert normalize_a_number(digits) == normalize_a_number("0" + digits) == "0" + digits
    assert normalize_a_number("A-" + digits) == normalize_a_number("A-0" + digits)


# Random text of two kinds: anything at all, and text built from the characters that matter here
# (digits, A, separators, look-alike digits, stray letters), which reaches the edges far more often.
_near_miss_alphabet = "0123456789Aab -\u2013\u00a0x.\u0663\u06f3\uff13\n"
_random_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=_near_miss_alphabet, max_size=14),
)


@given(_random_text)
@example("A-12345-678")
@example("\u0663" * 9)
def test_random_text_that_is_not_valid_raises(text):
    expected = oracle(text)
    if expected is None:
        with pytest.raises(InvalidANumber):
            normalize_a_number(text)
    else:
        assert normalize_a_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["A-087-654-321", "a087654321", "087654321", "12345678", "A 087 654 321", "id=A087654321&x"],
)
def test_scrubbing_hides_every_spelling_of_an_a_number(text):  # SEC-5, SEC-23
    assert "***" in scrub_a_numbers(text, substitute="***")
    assert not any(ch.isdigit() for ch in scrub_a_numbers(text, substitute="***"))


@pytest.mark.parametrize("text", ["2026-12-06", "1234567890", "call 555-0100", "PBM-12345678"])
def test_scrubbing_keeps_dates_references_and_other_numbers(text):
    assert scrub_a_numbers(text, substitute="***") == text
