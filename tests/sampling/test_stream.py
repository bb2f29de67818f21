"""One tune being written: forced header lines, their weights, and the repeat rule."""

import re

import pytest
import torch

from helpers import abc2midi_messages, abc2midi_report, needs_abc2midi
from musicgen.model.vocab import END, Vocabulary
from musicgen.sampling.bars import LOST_AFTER, RESTARTS, TUNE_REDRAWS
from musicgen.sampling.decoder import mask_banned, resume_bars, split_endings
from musicgen.sampling.facts import HORNPIPE_METERS, SHORT_BAR_ENDS, UNUSED_ENDINGS
from musicgen.sampling.rules import REPEAT_SPAN_LIMIT, RULES, RepeatOrder, Repeats
from musicgen.sampling.selectors import weigh
from musicgen.sampling.stream import ENDING_BARS, UNPLAYABLE_WEIGHT, Stream, splits_late


def fault(stream: Stream) -> str | None:
    return stream.bars.fault(stream)


def rejects(stream: Stream, char: str) -> bool:
    return stream.bars.rejects(char, stream)


def repeats_of(stream: Stream) -> Repeats:
    return next(rule for rule in stream.rules if isinstance(rule, RepeatOrder)).repeats


def test_a_forced_line_weighs_what_the_model_gave_it_after_its_own_lines():
    vocab = Vocabulary.from_texts(["T:x\nR:reel\nM:9/8\nK:C\nABc|\n"])
    probs = torch.full((len(vocab),), 0.01)
    probs[vocab.index["T"]], probs[vocab.index["R"]], probs[vocab.index["M"]] = 0.2, 0.3, 0.1
    log_probs = torch.log(probs / probs.sum())
    p = log_probs.exp()
    stream = Stream("T:x\n", {"M": "9/8"})
    stream.write(stream.choose("K"))  # the model starts K:, after M: in the header order: M:9/8 comes first
    start = p[vocab.index["M"]] / (1 - p[vocab.index["T"]] - p[vocab.index["R"]])
    weigh(stream, "M", log_probs, vocab)
    assert stream.log_weight == pytest.approx(float(start.log()), rel=1e-5)
    stream.write(stream.choose("A"))  # forced ':' whatever the model drew
    weigh(stream, ":", log_probs, vocab)
    assert stream.log_weight == pytest.approx(float(start.log() + log_probs[vocab.index[":"]]), rel=1e-5)
    assert "".join(stream.chars) == "T:x\nM:"


@pytest.mark.parametrize(
    "body, state, banned",
    [
        ("|: AB cd :|", "closed", "21"),  # :|2 is a second ending, :|1 a first one: neither without a |: and a 1
        ("|: AB cd :| [", "closed", "21"),
        ("|: AB cd :| ef |", "closed", "21"),
        ("|: AB cd :| ef :", "closed", ":"),
        ("|: AB |1 cd :|", "closed", "1"),  # :|2 ends the section with its second ending
        ("AB |1 cd :|", "closed", "1"),
        ("|: AB cd :|: ef |", "open", "21:"),  # abc2midi takes no first ending after :|: (see below)
        ("AB cd :: ef ", "open", ""),
        ("AB cd |", "start", "2"),
        ("|: AB |1 cd :|2 ef || |: g", "open", ""),
        ("|: AB |1 cd :|2 ef || |: g |", "open", "2:"),  # a new section needs its own first ending...
        ("|: AB |1 cd :|2 ef || |: gf ed :|", "closed", "1"),  # ...but not for :|2, as abc2midi reads it
        ("|: AB |:|", "open", "2:"),  # |: and a bar line, not a :|
        ("AB ::|", "open", "2:"),
        ("|: AB |1 cd |", "open", "1:"),  # no first ending while one waits for its :|
        ("AB [1 cd ef [", "start", "1"),
    ],
)
def test_repeat_marks_are_followed_as_abc2midi_reads_them(body, state, banned):
    repeats = Repeats()
    for char in body:
        repeats.follow(char)
    unused = UNUSED_ENDINGS if body.endswith(("|", "[")) else ""  # after :| too
    assert (repeats.state, repeats.banned()) == (state, banned + unused)


@needs_abc2midi
@pytest.mark.parametrize("body", ["AB cd |3 ef |]", "AB cd [4 ef |]", "AB |0 cd |]", "|: AB cd :|4 ef |]"])
def test_an_ending_numbered_other_than_1_or_2_is_a_repeat_error_to_abc2midi(body, tmp_path):
    errors = abc2midi_messages(f"X:1\nM:2/4\nL:1/8\nK:D\n{body}\n", tmp_path)
    assert any("found [1 or like before |:" in error or "Missing :|" in error for error in errors), errors


def test_a_repeat_left_open_too_long_no_longer_keeps_the_tune_from_ending():
    repeats = Repeats()
    for char in "|:" + "A" * REPEAT_SPAN_LIMIT:
        repeats.follow(char)
    assert repeats.keeps_open
    repeats.follow("B")
    assert not repeats.keeps_open and repeats.state == "open"
    for char in "::":  # a new section starts a new count
        repeats.follow(char)
    assert repeats.keeps_open


def _breaks_a_rule(body: str) -> bool:
    """Whether the sampler knows this body is wrong: a banned mark, or a repeat or first ending left open.

    (An open repeat may not end; a first ending left open may, but its draft
    is kept only when every draft of the tune is as bad.)
    """
    repeats = Repeats()
    for char in body:
        if char in repeats.banned():
            return True
        repeats.follow(char)
    return repeats.left_open


@needs_abc2midi
@pytest.mark.parametrize(
    "body",
    [
        "|: AB cd :|2 ef ||",
        "AB cd :|2 ef ||",
        "|: AB cd :| [2 ef ||",
        "|: AB cd |2 cd :| ef ||",
        "|: AB cd :|| ef |2 ef ||",
        "|: AB |1 cd :|2 ef ||",
        "|: AB |1 cd :| [2 ef ||",
        "AB |1 cd :|2 ef ||",
        "|: AB |1 cd :|2 ef || |: gf |1 ed :|2 dc |]",
        "|: AB |1 cd :|2 ef || |: gf ed :|2 dc |]",
        "|: AB cd :| |: ef |1 ga :|2 gf |]",
        "|: AB cd :| |1 ef :|",
        "|: AB cd |]",
        "AB :: cd :|",
        "|: AB |: cd :|",
        "AB cd :| ef |]",
        "|: AB |1 cd :|2 ef || |: gf ed |2 dc :|",
        "|: AB |1 cd :|2 ef || |: gf ed :| [2 dc |]",
        "AB |1 cd :|2 ef || |: gf ed :|2 dc |]",
        "AB |1 cd |]",
        "AB [1 cd ef |]",
        "AB |1 cd :| ef |]",
        "|: AB |1 cd :|2 ef || gh |1 ab :|2 cd ||",
        "|: AB |1 cd :|2 ef || gh :: ab :|",
        "|: AB |1 cd | ef |1 gf :|2 ab ||",
        "AB [1 cd | ef [1 gf :|2 ab ||",
        "|: AB cd :|: ef |1 ga :|2 gf |]",  # no first ending after :|:
        "|: AB |: :|: cd [1 ef :|2 gf |]",
        "|: AB cd :: ef |1 ga :|2 gf |]",  # sound: after :: or :||:
        "|: AB cd :||: ef |1 ga :|2 gf |]",
        "|: AB cd :|: ef ga :|",
    ],
)
def test_the_repeat_rule_stops_what_abc2midi_calls_a_repeat_error(body, tmp_path):
    errors = [
        e
        for e in abc2midi_messages(f"X:1\nM:4/4\nL:1/8\nK:D\n{body}\n", tmp_path)
        if re.search(r"Missing :\||before \|:|another \|:|end of variant ending", e)
    ]
    assert _breaks_a_rule(body) == bool(errors), errors


@needs_abc2midi
def test_no_second_ending_follows_the_repeat_of_a_second_ending(tmp_path):
    errors = abc2midi_messages("X:1\nM:4/4\nL:1/8\nK:D\n|: AB |1 cd :|2 ef :|2 gf |\n", tmp_path)
    assert any("close variant ending" in e for e in errors), errors
    assert "2" in Repeats("|: AB |1 cd :|2 ef :|").banned()
    assert "2" not in Repeats("|: AB |1 cd :|").banned()  # the second ending of a first
    assert "2" not in Repeats("|: AB |1 cd :|2 ef || |: gf ed :|").banned()  # a part's own, after a first one


def _written(prime: str, text: str) -> Stream:
    stream = Stream(prime, {})
    for char in text:
        stream.write(char)
    return stream


def test_a_hornpipe_writes_a_meter_abc2midi_plays_it_in():
    stream = _written("T:x\n", "R:Hornpipe\nM:")
    assert sorted(stream.allowed()) == ["2", "4", "C"]
    assert stream.allowed() is not None and _written("R:hornpipe\nM:4", "").allowed() == "/"
    assert _written("R:hornpipe\n", "M:4/4").allowed() == "\n"
    assert _written("R:hornpipe\n", "M:4/4\n").allowed() is None  # L: and the rest as the model likes
    assert _written("R:reel\n", "M:").allowed() is None
    assert _written("R:triple hornpipe\n", "M:").allowed() is None  # abc2midi plays those in 3/2
    vocab = Vocabulary.from_texts(["R:hornpipe\nM:3/2 C| 4/4\nK:C\nABc|\n"])
    probs = torch.full((1, len(vocab)), 1.0 / len(vocab))
    mask_banned(probs, [stream], [0], vocab)
    kept = {vocab.chars[i] for i in probs[0].nonzero().flatten().tolist()}
    assert kept == {"2", "4", "C"} and END not in kept


@needs_abc2midi
@pytest.mark.parametrize("meter", [*HORNPIPE_METERS, "C|", "2/2", "3/2", "6/8"])
def test_abc2midi_plays_a_hornpipe_in_just_those_meters(meter, tmp_path):
    errors = abc2midi_messages(f"X:1\nR:hornpipe\nM:{meter}\nL:1/8\nK:D\nABcd efga|\n", tmp_path)
    assert bool([e for e in errors if "Hornpipe" in e]) == (meter not in HORNPIPE_METERS), errors


@pytest.mark.parametrize(
    "tune_type, meter, weight",
    [
        ("hornpipe", "9/8", UNPLAYABLE_WEIGHT),
        ("Hornpipe", "C|", UNPLAYABLE_WEIGHT),
        ("hornpipe", "4/4", 0.0),
        ("slip jig", "9/8", 0.0),
    ],
)
def test_a_hornpipe_draft_under_a_meter_abc2midi_will_not_play_it_in_is_not_kept(tune_type, meter, weight):
    stream = Stream("", {"M": meter})
    for char in f"R:{tune_type}\n":
        stream.write(stream.choose(char))
    stream.write(stream.choose("K"))  # the model starts K:, the given M: line is written first
    assert "".join(stream.chars).endswith("\nM") and stream.log_weight == weight


NINE_EIGHT = "M:9/8\nL:1/8\nK:C\n"


@needs_abc2midi
@pytest.mark.parametrize(
    "bar",
    [
        "c2e d2c ",
        "c2e d2c B2A ",
        "c2e d2c B2A c",
        "(3cde f>g a2 B3",
        "[ce]2e d2c B2A",
        "{g}c6 B2A",
        "c2e d2c B2A-",
        "c/d/e d2c B2A ",
        '"Am"c2e !trill!d2c B2',
        "c9",
        "z3 d2c B2A",
        "c2e d2c\nB2A ",
    ],
)
def test_a_bar_that_does_not_fill_its_meter_is_found_as_abc2midi_finds_it(bar, tmp_path):
    stream = _written(NINE_EIGHT, "G|" + bar)
    report = abc2midi_report(f"X:1\n{NINE_EIGHT}G|{bar}|c9|]\n", tmp_path)
    warning = re.search(r"Bar 1 has (\d+) time units while the time signature has (\d+)", report)
    expected = None if not warning else "short" if int(warning[1]) < int(warning[2]) else "long"
    assert fault(stream) == expected, report


@needs_abc2midi
@pytest.mark.parametrize(
    "bar",
    [
        "[d2ef fdB c2",
        "[A>B]c2 d2c B2A",
        "[{B}A]2e d2c B2A",
        '"Am c2e d2c B2A',
        "{g c2e d2c B2A",
        "A>B2 c2e d2c",
        "[[ce]]2e d2c B2A",
        "[ce]2e d2c B2A",
        "{gf}e2e d2c B2A",
        "A>Bc d2c B2A",
        '"Am"c2e d2c B2A',
        "(3cde f2e d2c",
        "[K:G]c2e d2c B2A",
        "A!Bc d2c B2A",
        "!trill!c2e d2c B2A",
    ],
)
def test_a_bar_abc2midi_reports_an_error_in_is_found_malformed(bar, tmp_path):
    errors = abc2midi_messages(f"X:1\n{NINE_EIGHT}G|{bar}|c9|]\n", tmp_path)
    assert (fault(_written(NINE_EIGHT, "G|" + bar)) == "malformed") == bool(errors), errors


@pytest.mark.parametrize(
    "prime, text",
    [
        (NINE_EIGHT, "c2e d2c "),  # the pickup
        (NINE_EIGHT, "G|"),  # an empty bar
        (NINE_EIGHT, "G|c2e d2c :"),  # :| ends a section or a first ending, which may be short
        ("M:none\nL:1/8\nK:C\n", "G|c2e "),
        ("M:9/8\nL:1/8\nK:C\n", "G|c2e d2c B2A|\nM:3/8\nd2c "),  # full in the meter the body changed to
        ("M:9/8\nL:1/8\nK:C\n", "G|c2e d2c B2A|\nL:1/16\nc6 B6 A6 "),
    ],
)
def test_bars_not_judged(prime, text):
    assert fault(_written(prime, text)) is None


def _bar_stream(tries: int = 8) -> Stream:
    stream = Stream(NINE_EIGHT, {}, bar_tries=tries)
    for char in "G|:":
        stream.write(char)
    stream.bars.resume = "the sampler's"  # where the sampler would resume, set as the bar begins
    for char in "c2e d2c ":
        stream.write(char)
    return stream


def test_a_short_bar_is_drawn_again_unless_its_bar_line_ends_a_section_or_the_tune():
    for follower in SHORT_BAR_ENDS:
        stream = _bar_stream()
        assert not stream.bars.rejects("|", stream)
        stream.write("|")
        assert not stream.bars.rejects(follower, stream)
    stream = _bar_stream()
    assert not stream.bars.rejects("|", stream)
    stream.write("|")
    assert stream.bars.rejects(" ", stream)
    stream.bars.go_back(stream)
    assert "".join(stream.chars) == NINE_EIGHT + "G|"
    assert repeats_of(stream).state == "start" and stream.bars.redrawn and stream.bars.tries == 7
    for char in ":c2e d2c B2A ":  # drawn again: the |: comes back and the bar is full
        stream.write(char)
    assert repeats_of(stream).state == "open"
    assert not stream.bars.rejects("|", stream)
    stream.write("|")
    assert stream.bars.mark[0] == len(stream.chars) and stream.bars.tries == 8


@pytest.mark.parametrize(
    "text",
    [
        "[ce d2c ",  # the pickup: not judged for its length, but for what abc2midi reads as an error
        "G|[A4A2:",  # ended by :| (the | comes after :)
        "G|[ce2 d2c [",  # ended by [|
    ],
)
def test_a_bar_not_judged_for_its_length_is_still_judged_malformed(text):
    assert fault(_written(NINE_EIGHT, text)) == "malformed"


def test_a_malformed_pickup_is_drawn_again_from_the_body_start():
    stream = Stream("M:9/8\nL:1/8\n", {}, bar_tries=8)
    for char in "K:C\n":
        stream.write(char)
    stream.bars.resume = "the sampler's"
    for char in "[ce d2c ":
        stream.write(char)
    assert stream.bars.rejects("|", stream)
    stream.bars.go_back(stream)
    assert "".join(stream.chars) == "M:9/8\nL:1/8\nK:C\n" and stream.bars.pickup
    assert fault(_written(NINE_EIGHT, "G|c2e d2c B2A [")) is None


@pytest.mark.parametrize("text", ["[B2A", "B2T z", "B2A 2"])  # a chord left open, a loose trill, a stray length
def test_a_malformed_bar_is_drawn_again(text):
    stream = _bar_stream()
    for char in text:
        stream.write(char)
    assert stream.bars.rejects("|", stream)


def test_a_hornpipe_bar_whose_swung_pair_abc2midi_cannot_apply_is_drawn_again():
    stream = Stream("R:hornpipe\nM:2/4\nL:1/16\n", {}, bar_tries=8)
    for char in "K:G\nG2B.dAG":
        stream.write(char)
    stream.bars.resume = "the sampler's"
    assert stream.bars.rejects("|", stream)
    stream.bars.go_back(stream)
    for char in "G2BdAG":
        stream.write(char)
    assert not stream.bars.rejects("|", stream)


def test_a_long_bar_is_drawn_again_until_the_tries_run_out():
    stream = _bar_stream(tries=2)
    for tries_left in (1, 0):
        stream.write("B2A c")
        assert stream.bars.rejects("|", stream)
        stream.bars.go_back(stream)
        assert stream.bars.tries == tries_left
        stream.write(":c2e d2c ")
    stream.write("B2A c")
    assert not stream.bars.rejects("|", stream)  # out of tries: the bar stands
    assert not rejects(_bar_stream(tries=0), "|")


def _written_stream(prime: str, fixed: dict, text: str, splits: int = 3) -> Stream:
    stream = Stream(prime, fixed, bar_tries=8, splits=splits)
    for char in text:
        stream.write(stream.choose(char))
    return stream


def test_a_tune_held_to_its_form_splits_into_its_ending_drafts_for_its_last_bars():
    # N:AABB 8 is 16 bars as written: its drafts split off once 16 - ENDING_BARS bar lines are written
    stream = _written_stream("", {"N": "AABB 8"}, "N:AABB 8\nM:6/8\nL:1/8\nK:C\n|:c2e d2c|c2e d2c||")
    assert stream.form_asked and stream.bar_lines == 3  # |: and || count once each
    while stream.bar_lines < 16 - ENDING_BARS - 1:
        for char in "c2e d2c|":
            stream.write(char)
        assert not stream.split_due()
    for char in "c2e d2c|":
        stream.write(char)
    assert stream.split_due()


def test_a_tune_splits_only_past_its_header_and_only_while_it_has_drafts_to_split():
    assert not _written_stream("", {"N": "AABB 8"}, "N:AABB 8\nM:6/8\n").split_due()
    assert not _written_stream("", {}, "N:AABB 8\nK:C\n" + "c2e|" * 20, splits=0).split_due()
    assert _written_stream("", {"N": "AABB 8"}, "N:AABB 8\nK:C\n" + "c2e|" * 12).split_due()
    rules = tuple(RULES)
    assert splits_late("", {"N": "AABB 8"}, rules) and splits_late("N:AABB 8\nM:6/8\n", {}, rules)
    assert not splits_late("", {}, rules)  # the model's own N: line is not asked for
    assert not splits_late("", {"R": "reel"}, rules)  # a code drawn for a type: its drafts differ in it
    assert not splits_late("", {"N": "AABB "}, rules) and not splits_late("N:AABB", {}, rules)  # bars drawn
    assert not splits_late("", {"N": "AABB 8"}, ("note_before_end",))  # form_end switched off


def test_an_ending_draft_goes_on_alone():
    stream = _written_stream("", {"N": "AABB 8"}, "N:AABB 8\nM:6/8\nL:1/8\nK:C\n|:c2e d2c|c2e")
    draft = stream.split()
    assert draft.splits == 0 and draft.slot == stream.slot and draft.text == stream.text
    for char in " d2c|":
        draft.write(char)
    assert stream.text.endswith("c2e") and stream.bar_lines == draft.bar_lines - 1
    assert repeats_of(draft) is not repeats_of(stream) and stream.bars.mark != draft.bars.mark


def test_a_bar_drawn_again_takes_back_its_bar_line_count():
    stream = _bar_stream()
    counted = stream.bar_lines
    assert not stream.bars.rejects("|", stream)  # a short bar: kept if what follows ends a section
    stream.write("|")
    assert stream.bar_lines == counted + 1 and stream.bars.rejects(" ", stream)  # it does not
    stream.bars.go_back(stream)
    assert stream.bar_lines == counted


HELD_HEADER = "N:AABB 8\nM:6/8\nL:1/8\nK:C\n"


def _held_stream(bars: list[str], sound_resume=("logits at the body", ("state at the body",))) -> Stream:
    """A tune held to AABB 8, its body's resume set as the decoder sets it, then ``bars`` written,
    each judged by the bar verifier with its redraws spent, as if every one were its last try."""
    stream = Stream("", {"N": "AABB 8"}, bar_tries=8, splits=3)
    for char in HELD_HEADER:
        stream.write(stream.choose(char))
    stream.bars.resume = stream.bars.body_resume = sound_resume
    for bar in bars:
        for char in bar:
            stream.write(char)
        stream.bars.tries = 0
        assert not stream.bars.rejects("|", stream)  # no redraws left: the bar stands
        stream.write("|")
    return stream


def test_a_tune_whose_bars_so_far_are_unsound_goes_back_to_its_body_start_as_it_splits():
    sound = _held_stream(["c2e d2c"] * 12)
    assert sound.split_due() and not sound.retake_due()
    # "2 2": abc2midi's "Unrecognized character"
    unsound = _held_stream(["c2e d2c"] * 5 + ["c2 2e d2c"] + ["c2e d2c"] * 6)
    assert unsound.split_due() and unsound.bars.unsound and unsound.retake_due() == "body"
    unsound.bars.retake(unsound)
    assert unsound.text == HELD_HEADER and unsound.bar_lines == 0 and not unsound.bars.unsound
    assert unsound.bars.resume == unsound.bars.body_resume and unsound.bars.tune_redraws == TUNE_REDRAWS
    assert unsound.bars.tries == 8


def _lost_bars(stream: Stream, long_bar: str = "c2e d2c e2") -> int:
    """Write ``long_bar`` (8/8 in 6/8) and draw it again until the tune is lost or its redraws run out;
    the characters thrown away."""
    thrown = 0
    while not stream.bars.lost:
        for char in long_bar:
            stream.write(char)
        if not stream.bars.rejects("|", stream):
            break  # no redraws left: the bar stands
        stream.bars.go_back(stream)
        thrown += len(long_bar)
        assert stream.text.endswith("c2e d2c|")  # back at the bar's start
    return thrown


def test_a_tune_that_throws_away_too_much_redrawing_bars_starts_again_at_most_twice():
    stream = Stream("", {"N": "AABB 8"}, bar_tries=100)
    for restarts_left in range(RESTARTS, 0, -1):
        for char in HELD_HEADER + "c2e d2c|":
            stream.write(stream.choose(char))
        stream.bars.resume = ("logits at bar 2", ("state at bar 2",))
        thrown = _lost_bars(stream)
        assert stream.bars.lost and LOST_AFTER < thrown <= LOST_AFTER + 10
        stream = stream.restarted(lost=True)
        assert stream.text == "" and stream.in_header and stream.restarting
        assert stream.bars.restarts == restarts_left - 1 and stream.bars.thrown == 0
    for char in HELD_HEADER + "c2e d2c|":
        stream.write(stream.choose(char))
    stream.bars.resume = ("logits at bar 2", ("state at bar 2",))
    assert _lost_bars(stream) == TUNE_REDRAWS * 10 and not stream.bars.lost  # no restart left


def test_the_decoder_resumes_a_lost_tune_from_where_every_tune_begins():
    stream = Stream("", {"N": "AABB 8"}, bar_tries=100).restarted(lost=True)
    other = Stream("", {})
    logits, state = torch.zeros(2, 3), (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4))
    start = (torch.ones(3), (torch.ones(1, 4), torch.full((1, 4), 2.0)))
    resume_bars([other, stream], logits, state, start)
    assert logits[1].tolist() == [1.0] * 3 and state[1][0, 1].tolist() == [2.0] * 4
    assert logits[0].tolist() == [0.0] * 3 and not stream.restarting


@pytest.mark.parametrize("line, back", [("K:G Mixolydian", None), ("K:G Nixolydian", "tune"), ("L:1/0", "tune")])
def test_a_tune_whose_header_does_not_read_goes_back_to_its_start_as_it_splits(line, back):
    header = HELD_HEADER.replace("K:C" if line.startswith("K:") else "L:1/8", line)
    stream = Stream("", {"N": "AABB 8"}, bar_tries=8, splits=3)
    for char in header + "c2e d2c|" * 12:
        stream.write(stream.choose(char))
    stream.bars.body_resume = ("logits", ("state",))
    assert stream.split_due() and stream.retake_due() == back


def test_a_tie_or_tuplet_over_a_bar_line_that_abc2midi_refuses_sends_a_tune_back_to_its_body_start():
    # each bar alone is sound: what abc2midi refuses is read across the bar line
    tie = _held_stream(["c2e d2c"] * 5 + ["c2e d2c-", "e2e d2c"] + ["c2e d2c"] * 5)
    tuplet = _held_stream(["c2e d2c"] * 5 + ["c2e d (3cd", "e>dc d2c"] + ["c2e d2c"] * 5)
    held = _held_stream(["c2e d2c"] * 5 + ["c2e d2c-", "c2e d2c"] + ["c2e d2c"] * 5)  # sound: a tie to its pitch
    assert not tie.bars.unsound and not tuplet.bars.unsound
    assert (tie.retake_due(), tuplet.retake_due(), held.retake_due()) == ("body", "body", None)


def test_a_tune_with_nowhere_to_go_back_to_splits_where_it_stands():
    unsound = _held_stream(["c2e d2c"] * 5 + ["c2 2e d2c"] + ["c2e d2c"] * 6, sound_resume=None)
    assert unsound.split_due() and unsound.retake_due() is None  # bars are never drawn again: no resume kept


@pytest.mark.parametrize("back_to", [None, "body", "tune"])
def test_split_endings_gives_each_draft_its_tunes_state_or_where_it_goes_back_to(back_to):
    at_start = (torch.full((5,), 3.0), (torch.full((2, 3), 3.0), torch.full((2, 3), 3.0)))
    at_body = (torch.full((5,), 7.0), (torch.full((2, 3), 7.0), torch.full((2, 3), 7.0)))
    bars = ["c2e d2c"] * 5 + ["c2 2e d2c" if back_to == "body" else "c2e d2c"] + ["c2e d2c"] * 6
    due = _held_stream(bars, at_body)
    if back_to == "tune":  # a header that plays a part B the body never defines
        due = Stream("", {"N": "AABB 8"}, bar_tries=8, splits=3)
        for char in HELD_HEADER.replace("K:", "P:AB\nK:") + "|".join(bars) + "|":
            due.write(due.choose(char))
        due.bars.body_resume = at_body
    streams = [_held_stream(["c2e d2c"] * 3, at_body), due]  # the first is not due yet
    written, due.slot = due.text, 1
    logits = torch.stack([torch.zeros(5), torch.ones(5)])
    state = (torch.ones(2, 2, 3), torch.ones(2, 2, 3))
    active, logits, state = split_endings(streams, [0, 1], logits, state, at_start)
    assert active == [0, 1, 2, 3, 4] and len(streams) == 5 and logits.shape == (5, 5)
    assert [stream.slot for stream in streams] == [0, 1, 1, 1, 1] and streams[1].splits == 0
    value = {None: 1.0, "body": 7.0, "tune": 3.0}[back_to]
    assert torch.equal(logits[1:], torch.full((4, 5), value)) and torch.equal(logits[0], torch.zeros(5))
    assert all(torch.equal(part[:, 1:], torch.full((2, 4, 3), value)) for part in state)
    assert all(torch.equal(part[:, 0], torch.ones(2, 3)) for part in state)
    texts = {None: written, "body": HELD_HEADER, "tune": ""}[back_to]
    assert {stream.text for stream in streams[1:]} == {texts} and len({id(s) for s in streams}) == 5
