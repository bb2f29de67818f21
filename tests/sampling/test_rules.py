"""Each sampler rule alone, driven by a fake model (a list of preferred characters), without torch."""

import subprocess
import sys

import pytest

from musicgen.model.config import SampleConfig
from musicgen.model.vocab import END
from musicgen.sampling.bars import BAR_SPAN_LIMIT
from musicgen.sampling.rules import (
    OPEN_SPAN_LIMIT,
    RULES,
    SPACER_RUN,
    BrokenRhythm,
    FormEnd,
    HornpipeMeter,
    NoteBeforeEnd,
    RepeatOrder,
    StraySigns,
)
from musicgen.sampling.stream import UNPLAYABLE_WEIGHT, Stream

HEAD = "M:4/4\nL:1/8\nK:C\n"


class FakeModel:
    """Proposes characters in an order of preference; the first the tune's rules allow is written."""

    def offer(self, stream: Stream, *preferences: str) -> str:
        banned, allowed = stream.banned(), stream.allowed()
        char = stream.choose(next(c for c in preferences if c not in banned and (allowed is None or c in allowed)))
        if char == END:
            stream.done = True
        else:
            stream.write(char)
        return char

    def play(self, stream: Stream, text: str) -> str:
        """Offer each character of ``text`` alone first, then a note; what was written."""
        return "".join(self.offer(stream, char, "A") for char in text)


model = FakeModel()


def test_every_rule_is_switched_by_a_sample_config_field_of_its_name():
    assert set(RULES) == {
        "note_before_end",
        "repeat_order",
        "hornpipe_meters",
        "form_end",
        "spacing",
        "open_marks",
        "stray_signs",
        "broken_rhythm",
        "hornpipe_pairs",
    }
    assert all(getattr(SampleConfig(), name) is True for name in RULES)
    assert [type(r) for r in Stream(HEAD, {}, rules=()).rules] == []


@pytest.mark.parametrize("rules", [("note_before_end",), ()])
def test_note_before_end_keeps_a_tune_from_ending_before_its_first_note(rules):
    stream = Stream(HEAD, {}, rules=rules)
    assert model.offer(stream, END, "A") == (END if not rules else "A")
    if rules:
        assert model.offer(stream, END, "A") == END  # a note is written: the tune may end


def test_repeat_order_closes_an_open_repeat_before_the_end_and_numbers_endings_1_and_2():
    stream = Stream(HEAD, {}, rules=("repeat_order",))
    assert model.play(stream, "|:ABC") == "|:ABC"
    assert model.offer(stream, END, "|") == "|"  # no end with the repeat open
    assert model.offer(stream, ":", "A") == "A"  # no |: inside an open repeat
    assert model.play(stream, "|3") == "|A"  # endings are numbered 1 or 2
    assert model.play(stream, "|1B:|") == "|1B:|"
    assert END not in stream.banned()
    assert model.play(stream, "|1") == "|A"  # a first ending after :| needs a new |:
    off = Stream(HEAD + "|:AB", {}, rules=())
    assert off.banned() == "" and model.offer(off, END) == END


@pytest.mark.parametrize("rules", [("spacing",), ()])
def test_spacing_keeps_runs_of_spaces_and_backquotes_short_in_the_body_only(rules):
    stream = Stream("T:a" + " " * 6 + "title\n" + HEAD, {}, rules=rules)  # the header is not the body's
    written = model.play(stream, "A" + " " * 6 + "B`` `C  |")
    if rules:
        assert written == "A  A  AB``A`C  |"  # where a third spacer would come, the model's next choice
        assert " " * (SPACER_RUN + 1) not in written and "`" * (SPACER_RUN + 1) not in written
    else:
        assert written == "A" + " " * 6 + "B`` `C  |"


def test_spacing_goes_back_with_a_bar_drawn_again():
    stream = Stream(HEAD + "AB  ", {}, rules=("spacing",))
    assert stream.banned() == " `"  # a prime's run counts
    state = stream.rules[0].snapshot()
    model.play(stream, "c")
    assert stream.banned() == ""
    stream.rules[0].restore(state)
    assert stream.banned() == " `"


def test_open_marks_closes_a_chord_before_its_bar_line_and_keeps_out_what_abc2midi_refuses_in_one():
    stream = Stream(HEAD, {}, rules=("open_marks",))
    assert model.play(stream, "A2 [ce") == "A2 [ce"
    assert model.offer(stream, "|", "\n", END, "{", ">", "g") == "g"  # no bar line, line break, end or grace
    assert model.offer(stream, "|", "]") == "]"
    assert model.offer(stream, "]", "|") == "|"  # no ] that closes nothing
    assert model.offer(stream, "]", "A") == "]"  # |] is a bar line
    model.play(stream, "[c" + "e" * OPEN_SPAN_LIMIT["chord"])
    assert stream.allowed() == "]"  # a chord the model does not close is closed
    off = Stream(HEAD + "A2 [ce", {}, rules=())
    assert model.offer(off, "|") == "|"


def test_open_marks_closes_texts_and_inline_fields_on_their_line_and_leaves_field_lines_alone():
    stream = Stream(HEAD, {}, rules=("open_marks",))
    model.play(stream, 'A2 "')
    assert model.offer(stream, "s", "^") == "^"  # a text begins with a chord's letter or an annotation's place
    assert model.offer(stream, "\n", END, "|") == "|"  # a | in a text is kept; no line break or end
    model.play(stream, 'x" [K:D')
    assert model.offer(stream, "\n", "|", "]") == "]"
    model.play(stream, " !trill")
    assert model.offer(stream, " ", "|", "\n", "!") == "!"  # a decoration's name is one word on its line
    model.play(stream, '\nW:a "quote\n')
    assert stream.rules[0].mode == ""  # a field line in the body is no music
    assert model.offer(stream, "A") == "A" and model.play(stream, "A:|") == "A:|"  # a note before :| is no field


def test_stray_signs_keeps_lengths_slashes_and_octave_marks_to_a_note_as_the_bar_verifier_reads_them():
    stream = Stream(HEAD, {}, rules=("stray_signs",))
    assert model.offer(stream, "2", "/", ",", "A") == "A"  # nothing before the first note
    assert model.offer(stream, "'", ",") == ","  # a capital takes a comma, not an apostrophe
    assert model.play(stream, "2 ") == "2 "
    assert model.offer(stream, "2", "/", "'", "?", "B") == "B"  # no length after a space, no unread sign
    model.play(stream, "(AB)")
    assert model.offer(stream, "2", " ") == " "  # no length after a slur
    model.play(stream, "|:")
    assert model.offer(stream, "1", "A") == "A"  # a number after a repeat's colon is no ending
    model.play(stream, "[ce]")
    assert model.offer(stream, "2") == "2"  # a chord's length
    model.play(stream, ' "^x 2" !5! {2g}')
    assert model.offer(stream, "2", "c") == "c"  # texts, decorations and grace notes read as a space
    model.play(stream, " (3:2:")
    assert model.offer(stream, "3") == "3"  # a tuplet's numbers
    model.play(stream, "c|1")
    assert model.offer(stream, "'", ",") == ","  # endings 1,2 ...
    model.play(stream, "\nP:2\n% 3 4\n")
    assert model.offer(stream, "3", "d") == "d"  # field lines and comments are no music
    off = Stream(HEAD + "A ", {}, rules=())
    assert model.offer(off, "2") == "2"


def test_stray_signs_puts_a_note_after_an_accidental():
    stream = Stream(HEAD, {}, rules=("stray_signs",))
    model.play(stream, "A2 ^")
    assert model.offer(stream, "4", " ", "|", "^") == "^"  # a double sharp
    assert model.offer(stream, "^", "_", "c") == "c"  # ... and then a note, no third sign
    model.play(stream, " =")
    assert stream.allowed() == "ABCDEFGabcdefg"
    model.play(stream, 'g "^_x"')
    assert stream.allowed() is None  # an accidental's sign in a text is no accidental


def test_stray_signs_puts_a_note_after_a_one_character_decoration_but_leaves_field_lines_alone():
    stream = Stream(HEAD, {}, rules=("stray_signs",))
    model.play(stream, "A2 T")
    assert model.offer(stream, " ", "|", "(", "[", "^") == "^"  # no space, bar line, slur or chord after a trill
    model.play(stream, "c .")
    assert model.offer(stream, "|", "[") == "["  # a staccato chord
    model.play(stream, "ce]|\nP")
    assert model.offer(stream, ":", "A") == ":"  # P: begins a field line, not a decoration
    model.play(stream, "B\nA H")
    assert model.offer(stream, ":", "|", "B") == "B"  # mid-line, no field, and no fermata over nothing
    off = Stream(HEAD + "A2 T", {}, rules=())
    assert model.offer(off, "|") == "|"


def test_broken_rhythm_gives_the_note_after_a_broken_rhythm_the_first_notes_length():
    stream = Stream(HEAD, {}, rules=("broken_rhythm",))
    model.play(stream, "d2>")
    assert model.offer(stream, ".", "H", "B") == "B"  # the first note is plain: no staccato on the second
    assert model.offer(stream, "8", " ", "2") == "2"
    assert model.offer(stream, "/", "2", " ") == " "  # B2 is complete: no B2/ or B22
    model.play(stream, "c3/2<")
    model.play(stream, "e")
    assert model.offer(stream, "4", "3") == "3" and model.offer(stream, "2", "/") == "/"
    assert model.offer(stream, "4", "2") == "2"
    model.play(stream, " A>")
    assert model.offer(stream, "B") == "B" and model.offer(stream, "2", ",") == ","  # an octave mark first
    assert model.offer(stream, "2", " ") == " "  # then nothing: A is one unit long
    model.play(stream, "[ce]2>")
    assert model.offer(stream, "d") == "d" and model.offer(stream, "4") == "4"  # a chord's: any length
    model.play(stream, ' "^x2>"')
    assert model.offer(stream, "c") == "c" and model.offer(stream, "4") == "4"  # a > in a text is none
    off = Stream(HEAD + "d2>B", {}, rules=())
    assert model.offer(off, "8") == "8"


def test_hornpipe_pairs_marks_both_notes_of_a_swung_pair_or_neither_where_bars_are_not_drawn_again():
    head = "R:hornpipe\nM:2/4\nL:1/16\nK:G\n"
    stream = Stream(head, {}, rules=("hornpipe_pairs",), bar_tries=0)
    model.play(stream, "G2 B")
    assert model.offer(stream, ".", "H", "d") == "d"  # B d is a pair: no staccato on d alone
    model.play(stream, " .A")
    assert model.offer(stream, "G", "^", ".") == "."  # .A G would be a pair: G is marked too
    model.play(stream, "G2 .B")
    assert model.offer(stream, "2", "d") == "2"  # a longer note pairs with nothing
    assert stream.banned() == ""
    redrawn = Stream(head + "G2 B", {}, rules=("hornpipe_pairs",), bar_tries=8)
    assert model.offer(redrawn, ".") == "."  # the bar verifier judges it once the bar is written
    reel = Stream(head.replace("hornpipe", "reel") + "G2 B", {}, rules=("hornpipe_pairs",), bar_tries=0)
    assert model.offer(reel, ".") == "."


def test_hornpipe_meters_keeps_a_hornpipe_to_the_meters_abc2midi_plays_it_in():
    stream = Stream("R:hornpipe\n", {}, rules=("hornpipe_meters",))
    assert model.offer(stream, "M") + model.offer(stream, ":") == "M:"
    assert sorted(stream.allowed()) == ["2", "4", "C"]
    assert model.offer(stream, "3", "4") == "4"  # 3/2 is not a hornpipe's meter to abc2midi
    assert Stream("R:hornpipe\nM:4", {}, rules=("hornpipe_meters",)).allowed() == "/"
    assert Stream("R:hornpipe\nM:4/4\n", {}, rules=("hornpipe_meters",)).allowed() is None
    free = Stream("R:hornpipe\n", {}, rules=())
    assert model.play(free, "M:3/2\n") == "M:3/2\n"
    assert Stream("R:reel\nM:", {}, rules=("hornpipe_meters",)).allowed() is None


@pytest.mark.parametrize(
    "rule, body",
    [
        (NoteBeforeEnd(""), "AB|c"),
        (RepeatOrder(""), "|:AB|1c:|"),
        (HornpipeMeter(), "AB"),
        (FormEnd(""), "AB|c:|"),
        (StraySigns(""), 'AB "x" c ^'),
        (BrokenRhythm(""), "A2>B2 c>"),
    ],
)
def test_a_rule_goes_back_to_its_snapshot_and_the_snapshot_stays_usable(rule, body):
    class View:  # what a rule may read of its tune
        hornpipe, in_header, forced, chars, line_start = False, False, "", [], 0
        fields = {"N": "AB 1", "M": "2/4", "L": "1/4"}
        form_asked = True

    before = (rule.banned(View()), rule.snapshot())
    for char in body:
        rule.advance(char)
    rule.restore(before[1])
    assert rule.banned(View()) == before[0]
    for char in body:
        rule.advance(char)
    rule.restore(before[1])
    assert rule.banned(View()) == before[0]


def test_form_end_keeps_a_tune_going_until_it_has_the_parts_its_form_code_asks_for():
    head = "N:AABB 2\nM:2/4\nL:1/8\nK:C\n"
    stream = Stream(head, {}, rules=("form_end",))
    assert model.play(stream, "|:ABcd|efga:|") == "|:ABcd|efga:|"
    assert END in stream.banned()  # one part of the two
    assert model.play(stream, "|:gfed|cB") == "|:gfed|cB"
    assert END in stream.banned()  # mid-bar of the second part's second bar
    assert model.play(stream, "AG:|") == "AG:|"
    assert model.offer(stream, END) == END  # two parts of two bars: the tune may end
    forced = Stream("", {"N": "AB 1"}, rules=("form_end",))
    while model.offer(forced, "N") != "\n":  # the model begins an N: line, and the rest of it is forced
        pass
    model.play(forced, "T:x\nM:2/4\nL:1/8\nK:C\nABcd||")
    assert forced.text.startswith("N:AB 1\nT:x") and END in forced.banned()
    model.play(forced, "efga|]")
    assert END not in forced.banned()
    free = Stream("N:AABB 8\nM:2/4\nL:1/8\nK:C\nABcd|", {}, rules=())
    assert END not in free.banned()
    lost = Stream(head + "ABcd|" * 250, {}, rules=("form_end",))
    lost.write("|")
    assert END not in lost.banned()  # past FORM_SPAN_LIMIT: a tune the model has lost may stop


def test_form_end_closes_a_repeated_part_with_its_repeat_once_its_last_bar_is_under_way():
    stream = Stream("N:AABB 2\nM:2/4\nL:1/8\nK:C\n", {}, rules=("form_end",))
    model.play(stream, "|:ABcd|ef")
    assert model.offer(stream, "|", ":") == ":"  # no plain bar line after the part's last bar
    assert model.offer(stream, "|") == "|"
    model.play(stream, "|:gfed|cB")
    assert model.offer(stream, " ") == " "
    assert model.offer(stream, " ", "\n", "A") == "A"  # no run of spaces where a bar line belongs
    model.play(stream, "A[")
    assert model.offer(stream, "1", "2", "C") == "C"  # no ending at the part's last bar: [ starts a chord
    once = Stream("N:AB 2\nM:2/4\nL:1/8\nK:C\n", {}, rules=("form_end",))
    model.play(once, "ABcd|efga|")
    assert once.allowed() == "|]"  # a part played once is closed by || or |]
    free = Stream("N:AABB 2\nM:2/4\nL:1/8\nK:C\n|:ABcd|ef", {}, rules=())
    assert model.offer(free, "|") == "|"


def test_a_form_code_the_model_draws_for_an_asked_tune_type_is_held():
    typed = Stream("", {"R": "reel"}, rules=("form_end",))
    model.play(typed, "N:AB 1\nT:x\n")
    while not typed.text.endswith("R:reel\n"):  # the model begins an M: line, and R: is forced first
        model.offer(typed, "M")
    model.play(typed, "M:2/4\nL:1/8\nK:C\nABcd|")
    assert typed.text.startswith("N:AB 1\nT:x\nR:reel\nM:2/4") and END in typed.banned()  # one part of two
    model.play(typed, "|efga|]")
    assert END not in typed.banned()
    untyped = Stream("", {"M": "2/4"}, rules=("form_end",))  # a meter alone: the model's code is its own
    model.play(untyped, "N:AB 1\nT:x\nL:1/8\nK:C\nABcd|")
    assert untyped.text.startswith("N:AB 1\nT:x\nM:2/4") and END not in untyped.banned()


def test_form_end_keeps_an_n_line_the_model_writes_to_a_form_code_it_can_hold_a_tune_to():
    def write_code(stream: Stream, code: str) -> str:
        """Offer the code's characters, each before a line break, a plus and an 8; then end the line."""
        for char in code:
            model.offer(stream, char, "\n", "+", "8")
        while stream.chars[-1] != "\n":
            model.offer(stream, "\n", "+", "8")
        return stream.text.split("\n")[0]

    # codes the bundled model drew for --type reel, which held its tunes to nothing
    assert write_code(Stream("", {"R": "reel"}, rules=("form_end",)), "N:AABCCD 8+8+0") == "N:AABCCD 8+8+8+8"
    assert write_code(Stream("", {"R": "reel"}, rules=("form_end",)), "N:AABBCC 4+8+4+8") == "N:AABBCC 4+8+4"
    assert write_code(Stream("", {}, rules=("form_end",)), "N:AABB 8") == "N:AABB 8"
    assert write_code(Stream("", {}, rules=()), "N:AABCCD 8+8+0") == "N:AABCCD 8+8+0"
    assert Stream("T:AB", {}, rules=("form_end",)).allowed() is None  # only an N: line


@pytest.mark.parametrize(
    ("fixed", "code", "rules", "refused"),
    [
        ({"R": "reel"}, "A 6", ("form_end",), True),
        ({"R": "slip jig"}, "AB 2+4", ("form_end",), True),
        ({"R": "reel"}, "AABB 8", ("form_end",), False),
        ({"R": "lied"}, "A 6", ("form_end",), False),  # songs are often short
        ({"M": "2/4"}, "A 6", ("form_end",), False),
        ({"R": "reel"}, "A 6", (), False),
    ],
)
def test_a_header_draft_whose_drawn_code_is_too_short_for_the_dance_asked_is_weighed_down(fixed, code, rules, refused):
    stream = Stream("", fixed, rules=rules)
    model.play(stream, f"N:{code}\nT:x\n")
    assert (stream.log_weight <= UNPLAYABLE_WEIGHT) == refused


def test_a_form_prefix_is_forced_and_the_model_writes_the_bars():
    stream = Stream("", {"N": "AABB "}, rules=())
    while stream.forced or not stream.chars:
        model.offer(stream, "N")
    model.play(stream, "16\nT:x\n")
    assert stream.text == "N:AABB 16\nT:x\n"


def test_the_bar_verifier_sends_a_long_bar_back_and_the_rules_with_it():
    stream = Stream(HEAD, {}, bar_tries=2)
    model.play(stream, "|:ABCDEFGA|")  # a full bar, then the next is marked
    stream.bars.resume = "the decoder's"  # the decoder keeps its state where the bar began
    model.play(stream, "A" * 9)  # nine eighths in 4/4
    assert stream.bars.rejects("|", stream)
    stream.bars.go_back(stream)
    assert stream.text == HEAD + "|:ABCDEFGA|" and stream.bars.tries == 1
    repeats = next(rule for rule in stream.rules if isinstance(rule, RepeatOrder)).repeats
    assert repeats.state == "open" and repeats.length == len("|:ABCDEFGA|")
    assert not stream.bars.rejects("|", Stream(HEAD + "|ABCDEFGA", {}, bar_tries=2))  # no mark: nothing to go back to


@pytest.mark.parametrize("form, long_sent_back", [("N:AABB 8\n", True), ("", False)])
def test_the_bar_verifier_sends_back_a_long_bar_that_closes_a_repeat_where_a_form_is_asked(form, long_sent_back):
    for bar, sent_back in (("A" * 9, long_sent_back), ("A" * 7, False), ("A" * 8, False)):
        stream = Stream(form + HEAD, {}, bar_tries=2, rules=())  # the form asked for, its rule off
        model.play(stream, "|:ABCDEFGA|")
        stream.bars.resume = "the decoder's"
        model.play(stream, bar + ":")
        assert stream.bars.rejects("|", stream) == sent_back, bar


def test_the_bar_verifier_sends_back_a_bar_that_runs_on_without_a_bar_line():
    stream = Stream("M:none\nL:1/8\nK:C\n", {}, bar_tries=2)  # a free meter: no bar is too long
    model.play(stream, "|:ABCD|")
    stream.bars.resume = "the decoder's"
    model.play(stream, "A " * (BAR_SPAN_LIMIT // 2 - 1))
    assert not stream.bars.rejects("A", stream)
    model.play(stream, "A ")
    assert stream.bars.rejects("A", stream)


def test_the_rules_and_stream_need_no_torch():
    code = (
        "import sys\n"
        "from musicgen.sampling.stream import UNPLAYABLE_WEIGHT, Stream\n"
        "s = Stream('M:4/4\\nK:C\\n', {'T': 'x'}, bar_tries=8)\n"
        "s.write('A'); print(sorted(s.banned()) == sorted(\"]'?@#*;\"), s.allowed(), 'torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "None", "False"]


def test_generate_builds_each_stream_with_the_rules_its_config_switches_on(monkeypatch, tiny_run):
    import musicgen.sampling.sampler as sampler
    from musicgen.model.lm import load_model

    seen = set()
    real = sampler.Stream

    def spy(prime, fixed, bar_tries, rules, **kwargs):
        seen.add(rules)
        return real(prime, fixed, bar_tries, rules, **kwargs)

    monkeypatch.setattr(sampler, "Stream", spy)
    sampler.generate(load_model(tiny_run), n=1, seed=1, max_length=50, repeat_order=False, end_drafts=1)
    assert seen == {tuple(name for name in RULES if name != "repeat_order")}  # every rule but the one off
