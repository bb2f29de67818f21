"""A request outside what the model saw in training is honoured, and the user is told so."""

from click.testing import CliRunner

from musicgen.abc.tunebook import parse_tune
from musicgen.cli.main import main
from musicgen.model.lm import load_model
from musicgen.sampling.familiar import FAMILIAR, header_counts, tunes_of_type, unfamiliar


def tune(rhythm: str, meter: str):
    return parse_tune(f"X:1\nT:t\nR:{rhythm}\nM:{meter}\nL:1/8\nK:D\nDEFG|\n")


def test_types_are_counted_by_item_and_word():
    counts = header_counts([tune("Reel", "4/4"), tune("double jig", "6/8"), tune("jig, slide", "12/8")])
    assert counts["R"] == {"reel": 1, "double jig": 1, "jig": 1, "slide": 1}
    assert tunes_of_type(counts["R"], "JIG") == 2 and tunes_of_type(counts["R"], "polka") == 0
    assert counts["M"] == {"4/4": 1, "6/8": 1, "12/8": 1}


def test_only_rare_requests_get_a_note():
    counts = {"R": {"reel": FAMILIAR, "polka": FAMILIAR - 1}, "M": {"4/4": 500}}
    assert unfamiliar(counts, {"R": "reel", "M": "4/4"}) == []
    notes = unfamiliar(counts, {"R": "polka", "M": "5/4"})
    assert len(notes) == 2 and "saw 19 such tunes" in notes[0] and "saw 0 tunes in it" in notes[1]
    assert unfamiliar({}, {"R": "polka"}) == []  # a model that keeps no counts says nothing


def test_the_bundled_model_knows_what_it_saw_and_generate_says_so(tmp_path):
    counts = load_model().header_counts
    assert sum(counts["M"].values()) == 11586 and tunes_of_type(counts["R"], "reel") > 600
    args = ["generate", "-n", "1", "--seed", "1", "--formats", "abc", "--max-length", "300"]
    polka = CliRunner().invoke(main, [*args, "--type", "polka", "--meter", "2/4", "--out", str(tmp_path / "p")])
    assert polka.exit_code == 0 and "--type polka: the model saw 0 such tunes" in polka.output
    assert "--meter" not in polka.output  # 2/4 is common
    reel = CliRunner().invoke(main, [*args, "--type", "reel", "--out", str(tmp_path / "r")])
    assert reel.exit_code == 0 and "note:" not in reel.output


def test_training_saves_the_counts_of_its_training_split(tiny_run):
    counts = load_model(tiny_run).header_counts
    assert counts["M"] and all(isinstance(n, int) for n in counts["M"].values())


def test_a_saved_model_with_bad_counts_is_refused(tiny_run, tmp_path):
    import json

    import pytest

    from musicgen.errors import CheckpointError

    folder = load_model(tiny_run).save_pretrained(tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["header_counts"] = {"R": {"reel": "many"}}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="header counts are not tables"):
        load_model(folder)


def test_styles_and_forms_the_model_saw_little_of_get_a_note():
    counts = {"R": {}, "M": {}, "O": {"irish": 500, "german": 900}, "N": {"AABB": 300, "AABBCCDD": 3}}
    assert unfamiliar(counts, {"O": "irish", "N": "AABB 8"}) == []
    notes = unfamiliar(counts, {"O": "klingon", "N": "AABBCCDD "})
    assert "--style klingon: the model saw 0 tunes of it" in notes[0] and "german, irish" in notes[0]
    assert "--form AABBCCDD: the model saw 3 tunes of that form" in notes[1]
