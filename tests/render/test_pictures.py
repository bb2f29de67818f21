"""Pictures: sheet music (SVG, PNG), piano rolls, training curves, and the commands that write them."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ElementTree

import pytest
from click.testing import CliRunner
from PIL import Image

from musicgen.abc.melody import abc_to_melody
from musicgen.cli.main import main
from musicgen.errors import ConversionError, MusicgenError
from musicgen.render.pictures import abc_to_svg, piano_roll_png, svg_to_pdf, svg_to_png, training_curves_png

TUNE = """X:1
T:Drowsy <script>alert(1)</script> Maggie
M:4/4
L:1/8
K:Edor
|:E2BE dEBE|E2BE AFDF|E2BE dEBE|BABc dAFD:|
"""


def _image(png: bytes) -> Image.Image:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(png)).convert("L")


def _not_blank(image: Image.Image) -> bool:
    low, high = image.getextrema()
    dark = sum(image.histogram()[:128])
    return high - low > 100 and dark > 0.001 * image.width * image.height


def test_sheet_music_svg_is_real_notation():
    svg = abc_to_svg(TUNE)
    root = ElementTree.fromstring(svg)  # well-formed XML
    notes = [e for e in root.iter() if e.get("class", "").split()[:1] == ["note"]]
    # Engraved once, played twice: verovio and musicgen's own reader agree on the notes.
    assert len(notes) == 29 and len(abc_to_melody(TUNE).notes) == 2 * 29
    assert "<script>" not in svg  # the title is text, escaped
    assert "Drowsy &lt;script&gt;" in svg


def test_a_verovio_crash_is_a_conversion_error_not_ours(monkeypatch):
    garbage = "X:2\ny,rBBFF|   |ag|TA     g e|\nFP e|L\nB B|e    /   |2   : \nG| e] Bod:2 G||/ eo/Ge|2]Be/drde|\n"
    with pytest.raises(ConversionError):  # musicgen's reader refuses it before verovio sees it
        abc_to_svg(garbage)
    from musicgen.abc.melody import Melody

    monkeypatch.setattr("musicgen.abc.melody.abc_to_melody", lambda abc: Melody(notes=[]))  # one voice: ABC in
    with pytest.raises(ConversionError, match="crashed|cannot engrave"):  # verovio dies in its own process
        abc_to_svg(garbage)


def test_non_ascii_titles_survive_the_child_process():
    svg = abc_to_svg(TUNE.replace("Drowsy", "Dröwsy Ní"))
    assert "Dröwsy Ní" in svg


def test_sheet_music_png_is_sized_and_not_blank():
    image = _image(svg_to_png(abc_to_svg(TUNE), width=900))
    assert image.width == 900 and 100 < image.height < 900
    assert _not_blank(image)


def test_sheet_music_pdf_is_one_printable_page_of_the_score():
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 (test extra) reads the PDF back")
    svg = abc_to_svg(TUNE)
    document = pdfium.PdfDocument(svg_to_pdf(svg))
    assert len(document) == 1
    page = document[0]
    width, height = page.get_size()
    root = ElementTree.fromstring(svg)
    ratio = float(root.get("height").rstrip("px")) / float(root.get("width").rstrip("px"))
    assert height / width == pytest.approx(ratio, rel=0.02)
    assert _not_blank(page.render(scale=1).to_pil().convert("L"))


def test_piano_roll_png():
    image = _image(piano_roll_png(TUNE))
    assert image.width > 600 and _not_blank(image)
    with pytest.raises(ConversionError):
        piano_roll_png("X:1\nK:C\nz4|\n")


def test_training_curves_from_a_log_skip_damaged_lines(tmp_path):
    records = [{"step": s, "train_bpc": 3 - s / 100, "valid_bpc": 2.5 - s / 200} for s in (100, 200, 300)]
    (tmp_path / "log.jsonl").write_text("\n".join(map(json.dumps, records)) + '\n{"step": 4')
    assert _not_blank(_image(training_curves_png(tmp_path)))
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(MusicgenError, match="no validation records"):
        training_curves_png(tmp_path / "empty.jsonl")


def test_train_draws_curves_and_plot_redraws_them(tiny_run, tmp_path):
    assert _not_blank(_image((tiny_run / "curves.png").read_bytes()))
    runner = CliRunner()
    result = runner.invoke(main, ["plot", str(tiny_run / "log.jsonl"), "--out", str(tmp_path / "c.png")])
    assert result.exit_code == 0 and (tmp_path / "c.png").is_file()
    result = runner.invoke(main, ["plot", str(tiny_run / "log.jsonl"), "--out", str(tmp_path / "c.png")])
    assert result.exit_code == 1 and "--force" in result.output
    result = runner.invoke(main, ["plot", str(tmp_path / "absent")])
    assert result.exit_code == 1 and "no such training log" in result.output


def test_convert_to_sheet_music_and_piano_roll(tmp_path):
    book = tmp_path / "book.abc"
    book.write_text(TUNE)
    result = CliRunner().invoke(
        main, ["convert", str(book), "--to", "svg,png,pdf,roll", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    files = {p.name.split(".", 1)[1]: p for p in (tmp_path / "out").iterdir() if not p.name.endswith(".abc")}
    assert sorted(files) == ["pdf", "png", "roll.png", "svg"]
    assert files["pdf"].read_bytes().startswith(b"%PDF-")
    assert "<" not in files["svg"].name and "/" not in files["svg"].stem
    assert _not_blank(_image(files["png"].read_bytes())) and _not_blank(_image(files["roll.png"].read_bytes()))


def test_generate_with_sheet_music(run, tiny_run, tmp_path):
    out = tmp_path / "g"
    result = run("generate", "--model", tiny_run, "-n", 2, "--seed", 1, "--formats", "abc", "--sheet", "--out", out)
    assert result.exit_code == 0, result.output
    svgs = sorted(out.glob("*.svg"))
    failed = result.output.count("not converted")
    assert len(svgs) + failed == 2 and len(list(out.glob("*.png"))) == len(svgs)


def test_control_characters_in_a_title_still_give_well_formed_svg_and_png():
    import xml.etree.ElementTree as ElementTree

    from musicgen.render.pictures import abc_to_svg, svg_to_png

    svg = abc_to_svg("X:1\nT:a\x01b\x1b[31m\x7f\nK:C\nCDEF|GABc|\n")
    ElementTree.fromstring(svg)
    assert "&#1;" not in svg and "&#01;" not in svg
    assert svg_to_png(svg)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "body",
    [
        "CDEF|GABc",
        "CDEF|GABc|",
        "CDEF|GABc\nW:the words after",
        "CDEF|GABc % a comment",
        "|:CDEF|GABc:|",
        "CDEF|GABc|]",
    ],
)
def test_sheet_music_shows_every_bar_whatever_the_last_character(body):
    svg = abc_to_svg(f"X:1\nT:t\nM:4/4\nL:1/4\nK:C\n{body}\n")
    notes = ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}g")
    assert sum("note" in (group.get("class") or "").split() for group in notes) == 8


def test_a_tune_without_a_meter_is_engraved_without_a_time_signature():
    free = abc_to_svg("X:1\nT:t\nM:none\nL:1/4\nK:C\nCDEF|GABc|\n")
    assert 'class="meterSig"' not in free and 'class="meterSig"' in abc_to_svg("X:1\nT:t\nM:4/4\nK:C\nCDEF|\n")


def test_voices_are_engraved_on_a_staff_each():
    duet = "X:1\nT:Duet\nM:3/4\nL:1/4\nV:1\nV:2 clef=bass\nK:G\nV:1\nGAB|d3|]\nV:2\nG,B,D|G,,3|]\n"
    root = ElementTree.fromstring(abc_to_svg(duet))
    measures = [e for e in root.iter() if e.get("class", "").split()[:1] == ["measure"]]
    assert len(measures) == 2  # the voices sound together (verovio's ABC reader would draw four bars)
    staves = [e for e in measures[0].iter() if e.get("class", "").split()[:1] == ["staff"]]
    assert len(staves) == 2
    clefs = [e for e in root.iter() if e.get("class", "").split()[:1] == ["clef"]]
    assert len(clefs) == 2
