"""The form and style codes training writes into each tune, and the requests that force them."""

import pytest

from musicgen.abc.codes import (
    STYLES,
    form_code,
    form_code_next,
    form_option,
    form_request,
    read_codes,
    read_form_code,
    style_of,
    with_codes,
)
from musicgen.abc.form import tune_form
from musicgen.abc.tunebook import parse_tune, parse_tunebook
from musicgen.errors import OptionError

REEL = (
    "X:1\nT:Two parts\nR:reel\nM:4/4\nL:1/8\nK:D\n|:"
    + "ABcd efga|" * 7
    + "ABcd e4:|\n|:"
    + "fedc BAGF|" * 7
    + "EFGA B4:|\n"
)


@pytest.mark.parametrize(
    "origin, collection, source, style",
    [
        ("Europa, Mitteleuropa, Deutschland, Schwaben, Ulm", "essenFolksong", "essenFolksong/erk30.abc", "german"),
        ("Mitteleuropa, Niederlande, West - Flandern", "essenFolksong", "", "dutch"),
        ("Mitteleuropa, Deutschland / Niederlande", "", "", "german"),  # the first named
        ("China, Shaanxi, Zizhou", "essenFolksong", "", "chinese"),
        ("Irland", "essenFolksong", "", "irish"),
        ("Europa, Island", "essenFolksong", "", "european"),
        ("", "oneills1850", "oneills1850/0001-0050.abc", "irish"),
        ("", "ryansMammoth", "", "american"),
        ("", "airdsAirs", "", "scottish"),
        ("", "miscFolk", "miscFolk/americanfifeopus.abc", "american"),
        ("", "miscFolk", "miscFolk/northumbrianminstrelsyopus.abc", "english"),
        ("", "my-tunes", "my-tunes/book.abc", ""),  # nothing names a style: no code
        ("Hanau", "", "", ""),  # not a word for China
    ],
)
def test_style_is_read_from_the_origin_then_the_collection_then_the_file(origin, collection, source, style):
    assert style_of(origin, collection, source) == style
    assert style == "" or style in STYLES


def test_a_reel_of_two_repeated_8_bar_parts_gets_the_code_aabb_8_written_first():
    tune = parse_tune(REEL)
    coded = with_codes(tune, "irish")
    assert coded.text.startswith("N:AABB 8\nO:irish\nT:Two parts\nR:reel\n")
    assert coded.abc.startswith("X:1\nT:Two parts\nN:AABB 8\nO:irish\nR:reel\n")  # T: second, as ABC wants
    assert tune.text.startswith("T:Two parts\n")  # the tune as read is unchanged
    assert parse_tune(coded.abc).text == tune.text  # a player (and musicgen's reader) ignores the codes
    assert read_codes(coded.text) == {"N": "AABB 8", "O": "irish"}


def test_form_codes_name_each_parts_bars_when_they_differ_and_none_past_eight_parts():
    uneven = parse_tune("X:1\nM:2/4\nL:1/8\nK:C\n" + "ABcd|" * 7 + "ABcd||" + "dcBA|" * 11 + "dcBA|]\n")
    assert form_code(tune_form(uneven.body, uneven.fields)) == "AB 8+12"
    medley = parse_tune("X:1\nM:2/4\nL:1/8\nK:C\n" + "ABcd|ABcd||" * 9 + "\n")
    assert form_code(tune_form(medley.body, medley.fields)) == ""
    assert "N" not in with_codes(medley).fields
    assert read_form_code("AB 8+12") == ("AB", (8, 12))
    assert read_form_code("AABB 8") == ("AABB", (8, 8))
    for bad in ("ABAB 8", "AB 8+8+8", "AABB", "aabb 8", "AABB eight"):
        assert read_form_code(bad) is None, bad


def walk_form_code(choose) -> str:
    """An N: value written one character at a time, each chosen by ``choose`` from what may come next."""
    value = ""
    while (following := form_code_next(value)) and (char := choose(value, following)) != "\n":
        value += char
    return value


@pytest.mark.parametrize("seed", range(200))
def test_every_value_the_form_code_grammar_lets_through_reads_as_a_form_code(seed):
    import random

    draw = random.Random(seed)
    value = walk_form_code(lambda value, following: draw.choice(following))
    assert read_form_code(value) is not None, value


def test_the_form_code_grammar_stops_codes_that_name_bars_for_parts_it_does_not_have():
    assert form_code_next("") == "A"
    assert form_code_next("AABB") == "C "  # a third B is not a part pattern
    assert form_code_next("AAB") == "BC "
    assert form_code_next("AABBCC 4+8+4") == "0123456789\n"  # a fourth count has no part
    assert "+" not in form_code_next("AB 8+8") and "\n" not in form_code_next("ABC 8+8")
    assert form_code_next("AB 8+") == "123456789"  # no part of 0 bars
    assert form_code_next("AB 64") == "+\n"  # two digits at most, as in every training tune
    for unreadable in ("ABA", "aa", "AB 0", "AB x"):
        assert form_code_next(unreadable) == "", unreadable
    real = ("AABB 8", "AB 8+12", "A 9", "AABBCC 8", "ABC 16+8+8")
    for code in real:
        assert walk_form_code(lambda value, _, code=code: (code + "\n")[len(value)]) == code


def test_form_requests_force_the_whole_code_or_its_pattern_for_the_model_to_give_the_bars():
    assert form_request("aabb", 8) == "AABB 8"
    assert form_request("AABBCC", None) == "AABBCC "
    assert form_request(None, None) is None
    for bad, fragment in [("ABAB", "in order"), ("BA", "in order"), ("AAAB", "in order"), ("A1", "in order")]:
        with pytest.raises(OptionError, match=fragment):
            form_request(bad, None)
    with pytest.raises(OptionError, match="1..64"):
        form_request("AB", 0)


def test_the_default_form_is_a_dance_tune_unless_something_else_says_what_kind():
    assert form_option(None, None, kind_given=False) == "AABB 8"
    assert form_option(None, None, kind_given=True) is None  # --type reel: a reel's usual form, drawn
    assert form_option(None, 16, kind_given=True) == "AABB 16"
    assert form_option("any", None, kind_given=False) is None
    assert form_option("AB", None, kind_given=False) == "AB "
    with pytest.raises(OptionError, match="--part-bars needs a form"):
        form_option("any", 8, kind_given=False)


def test_a_tunebooks_own_origin_is_kept_aside_not_in_the_text():
    tunes, _ = parse_tunebook("X:1\nT:x\nO:Europa, Mitteleuropa, Deutschland\nN:a note\nK:C\nCDEF|\n")
    assert tunes[0].origin == "Europa, Mitteleuropa, Deutschland"
    assert "O:" not in tunes[0].text and "N:" not in tunes[0].text
