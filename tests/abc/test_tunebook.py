"""Splitting tunebooks into tunes and normalising each tune."""

import pytest

from helpers import abc2midi_errors, abc2midi_notes, needs_abc2midi
from musicgen.abc.tunebook import decode_abc, default_unit_length, parse_tune, parse_tunebook, repair_body
from musicgen.errors import CorpusError


def test_splits_book_and_reports_every_skipped_tune(tiny_book):
    tunes, skipped = parse_tunebook(decode_abc(tiny_book.read_bytes()), "tiny.abc")
    assert [t.number for t in tunes] == [1, 2, 5, 6]
    reasons = {s.number: s.reason for s in skipped}
    assert reasons == {"3": "no K: field", "4": "no notes in the body"}
    assert "tiny.abc X:3 (No key here)" in str(skipped[0])


def test_keeps_music_fields_in_order_and_drops_commentary(tiny_book):
    tunes, _ = parse_tunebook(tiny_book.read_text(), "tiny.abc")
    kesh, maggie = tunes[0], tunes[1]
    assert kesh.abc.splitlines()[:6] == ["X:1", "T:The Kesh", "R:jig", "M:6/8", "L:1/8", "K:G"]
    assert "N:" not in kesh.abc and "Z:" not in kesh.abc
    assert "I:" not in maggie.abc and "W:" not in maggie.abc and "words" not in maggie.abc
    assert maggie.body.endswith("dAFA:|")
    assert kesh.text == kesh.abc.split("\n", 1)[1]


def test_missing_unit_length_gets_the_abc_default(tiny_book):
    tunes, _ = parse_tunebook(tiny_book.read_text())
    assert tunes[-1].fields["L"] == "1/8"
    assert default_unit_length("2/4") == "1/16"
    assert default_unit_length("C|") == "1/8"
    assert default_unit_length("nonsense") == "1/8"


def test_latin1_and_dos_umlauts_decode():
    assert decode_abc("T:Ça va\n".encode("latin-1")) == "T:Ça va\n"
    assert decode_abc("T:Grün\r\n".encode()) == "T:Grün\n"
    # cp850 bytes converted to UTF-8 as if they were latin-1 (seen in Essen files)
    assert decode_abc("T:Gr\x81n".encode()) == "T:Grün"


def test_comments_are_stripped_but_escaped_percent_stays():
    tune = parse_tune("X:1\nT:t\nK:C\nCDEF GABc| % a comment\n%% a directive\ncdef \\% g|\n")
    assert tune.body == "CDEF GABc|\ncdef \\% g|"


def test_note_followed_by_repeat_is_not_a_field():
    tune = parse_tune("X:1\nT:t\nK:D\nABcd efga|\nA:|\nE::|]\n")
    assert tune.body.splitlines()[1:] == ["A:|", "E::|]"]


def test_body_fields_kept_and_lyrics_dropped():
    tune = parse_tune("X:1\nT:t\nM:4/4\nK:D\nABcd efga|\nw:la la\nM:3/4\nK:G\nabc|\n")
    assert tune.body == "ABcd efga|\nM:3/4\nK:G\nabc|"


def test_multi_voice_tunes_are_skipped_from_a_corpus_and_kept_for_conversion():
    book = 'X:1\nT:t\nV:1 name="Fiddle"\nV:2 clef=bass\nK:D\nV:1\nABc|\nV:2\nA,B,C|\n\nX:2\nT:u\nK:D\n[V:1] ABc|\n'
    _, skipped = parse_tunebook(book)
    assert [s.reason for s in skipped] == [
        "several voices (V:): a model learns one melody (convert and play read them)"
    ] * 2
    tunes, skipped = parse_tunebook(book, voices=True)
    assert not skipped
    assert tunes[0].body == 'V:1 name="Fiddle"\nV:2 clef=bass\nV:1\nABc|\nV:2\nA,B,C|'
    assert tunes[1].body == "[V:1] ABc|"


def test_empty_line_ends_the_tune():
    tune = parse_tune("X:1\nT:t\nK:D\nABc|\n\nThis is prose, not music.\n")
    assert tune.body == "ABc|"


def test_parse_tune_errors_name_the_problem():
    with pytest.raises(CorpusError, match="no K: field"):
        parse_tune("X:1\nT:t\nABC|\n")
    with pytest.raises(CorpusError, match="no tune"):
        parse_tune("")


REPAIRS = [  # (as written in old books, repaired, the same music in plain ABC)
    ("G3-A B2 | (g2a2 b2).g2 |", "G3A B2 | (g2a2 b2).g2 |", "G3A B2 | g2a2 b2g2 |"),
    ("u(dcd) efg | !p!(dcd) |", "(udcd) efg | (!p!dcd) |", "dcd efg | dcd |"),
    ('u"4"e vA B2 |', '"^4"ue vA B2 |', "e A B2 |"),
    ('c"0"<A G>"D.C.".e', 'c<"^0"A G>"^D.C."e', "c/A3/2 G3/2e/"),
    ("B2 H[|]:|", "B2 :|", "B2 :|"),
    ("(A>.B) c6|", "(A>B) c6|", "A3/2B/2 c6|"),
    ("v(3ABA) c2 z4 |", "(3vABA) c2 z4 |", "(3ABA) c2 z4 |"),
    ('"A MINOR"A4 "Am"c4 |', '"^A MINOR"A4 "Am"c4 |', "A4 c4 |"),
    ("(a.>f) G>-A d2 |", "(a>f) G>A d2 |", "a3/2f/ G3/2A/ d2 |"),
    ("vkg2vdB kg z | uk(d2.D) vk[c4E4] |", "vg2vdB g z | (ud2.D) v[c4E4] |", "g2dB g z | d2D [c4E4] |"),
    ("uA S|Addc dfe2 |", "uA |Addc dfe2 |", "A |Addc dfe2 |"),
    ("G-<E F>D c4 |", "G<E F>D c4 |", "G/E3/2 F3/2D/ c4 |"),
    ('"D/f+"F2 "E7/g+"^G2 "(A7/c+)"c4 |', '"D/f#"F2 "E7/g#"^G2 "(A7/c#)"c4 |', "F2 ^G2 c4 |"),
    ("A4- A4 | (3ABc | ^G-G", "A4- A4 | (3ABc | ^G-G", None),
]


@pytest.mark.parametrize("before, after, plain", REPAIRS)
def test_repairs_rewrite_rejected_notation(before, after, plain):
    assert repair_body(before) == after


@needs_abc2midi
@pytest.mark.parametrize("before, after, plain", REPAIRS[:-1])
def test_repairs_play_the_written_notes_without_abc2midi_errors(before, after, plain, tmp_path):
    header = "X:1\nT:t\nM:C\nL:1/8\nK:D\n"
    assert abc2midi_errors(header + after + "\n", tmp_path) == 0
    melody = abc2midi_notes(header + after + "\n", tmp_path, chords=False)
    assert melody == abc2midi_notes(header + plain + "\n", tmp_path, chords=False)


def test_note_lengths_detached_by_spaces_are_refused_with_the_fix(tmp_path):
    # folk-rnn's token dialect: abc2midi reports every such tune, and a reader would drop the lengths
    book = "X:1\nT:Tokens\nM:3/4\nL:1/8\nK:G\nG 2 A B c 2 | d 2 e 2 f 2 |\n"
    book += 'X:2\nT:Fine\nM:3/4\nL:1/8\nK:G\n(3GAB c2 | [1 d2 :| [2 e2 |] "A 7" A>B c/2 d3/ | z2 |\n'
    tunes, skipped = parse_tunebook(book, "book.abc")
    assert [t.title for t in tunes] == ["Fine"]
    assert len(skipped) == 1 and "detached from its note by a space" in skipped[0].reason and "G2" in skipped[0].reason
    from click.testing import CliRunner

    from musicgen.cli.main import main

    (tmp_path / "tokens.abc").write_text(book.split("X:2")[0])
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "tokens.abc"), "--no-abc2midi"])
    assert result.exit_code == 1 and "detached from its note" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_accompaniment_directives_are_kept_beside_the_text():
    tune = parse_tune(
        "X:1\nT:t\nM:3/2\nK:G\n%%MIDI gchord fzczcz\n%%MIDI program 74\n"
        '"G"G12|\n%%MIDI chordprog 24 % guitar\n"D"A12|\n'
    )
    assert tune.midi == {"gchord": "fzczcz", "chordprog": "24"}
    assert "%%MIDI" not in tune.text  # not what a model learns
    assert "%%MIDI gchord fzczcz\n%%MIDI chordprog 24\n" in tune.abc
    assert parse_tune(tune.abc).midi == tune.midi
