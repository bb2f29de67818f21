"""Form positions: where a tune stands in its N: code, as training computes them and a sampled tune is told them."""

import pytest

from musicgen.abc.position import (
    FINISHED,
    MOST_BARS_LEFT,
    NO_POSITION,
    POSITION_CODES,
    FormClock,
    form_positions,
    header_fields,
)

BAR = "ABcd efga"
LAST = 1 + MOST_BARS_LEFT + 1  # the code of the last part's first "bars left" value, 0 left


def bars(count: int) -> str:
    return "|".join([BAR] * count)


def tune(code: str, body: str) -> str:
    return f"X:1\nN:{code}\nM:4/4\nL:1/8\nK:D\n{body}"


def code_after(text: str, fragment: str) -> int:
    """The position after the first character past ``fragment`` (the fragment must occur once)."""
    assert text.count(fragment) == 1
    return form_positions(text)[text.index(fragment) + len(fragment)]


def part_code(left: int, last: bool) -> int:
    return (LAST if last else 1) + left


def test_the_header_has_no_position_and_the_body_counts_down_each_part():
    text = tune("AABB 8", f"|:{bars(8)}:|\n|:{bars(8)}:|")
    codes = form_positions(text)
    assert len(codes) == len(text)
    body = text.index("K:D\n") + 4
    assert set(codes[: body - 1]) == {NO_POSITION}
    assert codes[body - 1] == part_code(8, last=False)  # the K: line's break: the A part is all to come
    assert codes[body + len(f"|:{BAR}|A")] == part_code(6, last=False)  # a bar done, the second under way
    assert codes[body + len(f"|:{bars(7)}|A")] == part_code(0, last=False)  # the A part's last bar
    # the B part, the tune's last: its first note may yet be a pickup, so all 8 bars are to come
    assert code_after(text, ":|\n|:") == part_code(8, last=True)
    assert code_after(text, f":|\n|:{BAR}|") == part_code(6, last=True)
    assert codes[-2] == part_code(0, last=True)
    assert codes[-1] == FINISHED
    assert all(0 <= code < POSITION_CODES for code in codes)


def test_pickups_and_endings_are_counted_as_a_musician_counts_them():
    text = tune("AABB 8", f"d|{bars(7)}|1 {BAR}:|2 {BAR}||\n|:{bars(8)}:|")
    assert code_after(text, "K:D\nd|A") == part_code(7, last=False)  # the pickup is no bar
    assert code_after(text, "|1 A") == part_code(0, last=False)
    assert code_after(text, "|2 A") == part_code(0, last=False)  # the second ending stands for the first
    assert code_after(text, "||\n|:") == part_code(8, last=True)
    assert code_after(text, f"||\n|:{bars(7)}|") == part_code(0, last=True)


def test_a_long_part_reads_the_most_bars_left():
    text = tune("AB 24", f"{bars(24)}||{bars(24)}|]")
    assert code_after(text, "K:D\nA") == part_code(MOST_BARS_LEFT, last=False)


@pytest.mark.parametrize("code", ["", "free", "AB 0x"])
def test_a_tune_without_a_form_code_has_no_positions(code):
    text = tune(code, f"|:{bars(8)}:|")
    assert set(form_positions(text)) == {NO_POSITION}


def test_text_without_a_key_line_is_all_header():
    header = "X:1\nN:AABB 8\nM:4/4\n"
    assert form_positions(header) == [NO_POSITION] * len(header)


def test_the_clock_goes_back_to_a_snapshot_and_counts_as_if_it_never_left():
    text = tune("AABB 8", f"|:{bars(8)}:|\n|:{bars(8)}:|")
    header, body = text[: text.index("K:D\n") + 4], text[text.index("K:D\n") + 4 :]
    clock = FormClock(header_fields(header))
    cut = body.index(":|")  # in the A part's last bar
    for char in body[:cut]:
        clock.advance(char)
    mark = clock.snapshot()
    for char in "|ABcd|efga|ABcd||":  # a wrong turn, then back
        clock.advance(char)
    clock.restore(mark)
    codes = []
    for char in body[cut:]:
        clock.advance(char)
        codes.append(clock.code())
    assert codes == form_positions(text)[len(header) + cut :]
