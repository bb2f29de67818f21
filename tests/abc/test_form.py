"""Counting a tune's parts and bars as a folk musician does, on hand-made tunes with known answers."""

import pytest

from musicgen.abc.form import WalkMemo, form_so_far, tune_form
from musicgen.abc.tunebook import parse_tune
from musicgen.evaluation.evaluate import evaluate_tunes

FIELDS = {"M": "4/4", "L": "1/8", "K": "D"}
BAR = "ABcd efga"


def bars(count: int, bar: str = BAR) -> str:
    return "|".join([bar] * count)


@pytest.mark.parametrize(
    "body, form, dance",
    [
        (f"|:{bars(8)}:|\n|:{bars(8)}:|", "AABB 8+8", True),  # a reel
        (f"d|{bars(8)}:|\n|:{bars(8)}|]", "AAB 8+8", True),  # a pickup is not a bar
        (f"|:{bars(7)}|1 {BAR}:|2 {BAR}||\n|:{bars(8)}:|", "AABB 8+8", True),  # endings count once
        (f"|:{bars(7)}|1 {BAR}:| [2 {BAR}|]", "AA 8", False),  # [2 after :| and a space
        (f"|:{bars(8)}::{bars(8)}:|", "AABB 8+8", True),  # :: ends one repeated part and opens the next
        (f"{bars(8)}||{bars(8)}|]", "AB 8+8", True),  # parts written out, marked off by ||
        (f"|:{bars(8)}:|", "AA 8", False),  # one part only
        (f"|:{bars(5)}|]", "A 5", False),  # opened but never closed with :|: played once
        (f"|:{bars(7)}|1 {BAR}:|2 {BAR}|{bars(8)}|]", "AAB 8+8", True),  # B begins after the second ending
        (f"|:{bars(7)}|ABcd\nefga:|\n|:{bars(8)}:|", "AABB 8+8", True),  # a bar split by a line's end
        (f'|:"G"{bars(8)}:|\n|:!trill!{bars(8)}:|', "AABB 8+8", True),  # chords and decorations are not bars
        (f"|:{bars(16)}:|\n|:{bars(16)}:|\n|:{bars(8)}:|", "AABBCC 16+16+8", True),
    ],
)
def test_parts_and_bars_are_counted_as_a_musician_counts_them(body, form, dance):
    counted = tune_form(body, FIELDS)
    assert (counted.describe(), counted.dance_form) == (form, dance)


def test_a_jig_with_a_pickup_into_each_part():
    jig = "A|" + "|".join(["dAF DFA"] * 7) + "|dAF D2:|\n|:e|" + "|".join(["fdf ece"] * 7) + "|fdf e2:|"
    assert tune_form(jig, {"M": "6/8", "L": "1/8"}).describe() == "AABB 8+8"


def test_evaluate_reports_forms_by_share_and_by_tune_type():
    reel = parse_tune(f"X:1\nT:R\nR:reel\nM:4/4\nL:1/8\nK:D\n|:{bars(8)}:|\n|:{bars(8)}:|\n")
    song = parse_tune(f"X:2\nT:S\nR:song\nM:4/4\nL:1/8\nK:D\n{bars(5)}|]\n")
    result = evaluate_tunes([reel, reel, song], reference=[reel], use_abc2midi=False)
    summary = result["summary"]
    assert summary["dance_form"] == pytest.approx(2 / 3) and summary["under_8_bars"] == pytest.approx(1 / 3)
    assert summary["one_part"] == pytest.approx(1 / 3)
    assert summary["forms"] == {"AABB 8+8": pytest.approx(2 / 3), "A 5": pytest.approx(1 / 3)}
    assert summary["dance_form_by_type"] == {"reel": 1.0, "song": 0.0}
    assert summary["overlap_forms"] == pytest.approx(2 / 3)
    assert [tune["form"] for tune in result["tunes"]] == ["AABB 8+8", "AABB 8+8", "A 5"]


@pytest.mark.parametrize(
    "header, well_formed",
    [
        ("M:6/8\nL:1/8\nK:D", True),
        ("M:none\nK:none", True),
        ("M:(2+2+3)/8\nL:1/8\nK:Ador", True),
        ("M:rone\nL:1/8\nK:D", False),  # a song's text in the meter field
        ("M:6/8\nL:hirten - lied\nK:D", False),
        ("L:1/8\nK:D", False),  # no meter
    ],
)
def test_well_formed_needs_header_values_abc_can_read(header, well_formed):
    tune = parse_tune(f"X:1\nT:t\n{header}\nDEF GAB|\n")
    assert evaluate_tunes([tune], use_abc2midi=False)["tunes"][0]["has_headers"] is well_formed


def test_a_growing_body_counted_with_a_memo_reads_as_counted_afresh():
    """The sampler counts the parts at each bar line, reading only what is new; going back to an
    earlier bar (a bar drawn again) and writing on must count as a fresh reading does."""
    body = f"d|:{bars(7)}|1 {BAR}:| [2 {BAR}||\n|:{bars(3)}|ABcd\nefga|{bars(4)}::{bars(8)}:|"
    memo = WalkMemo()
    prefixes = [body[:end] for end in range(1, len(body) + 1)]
    prefixes += [body[:40], body[:41]] + prefixes[60:]  # back to an earlier bar, then on again
    for prefix in prefixes:
        assert form_so_far(prefix, FIELDS, memo) == form_so_far(prefix, FIELDS), prefix
    assert tune_form(body, FIELDS).describe() == "AABBCC 8+8+8"
