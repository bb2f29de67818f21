"""Translation: parallel data, masks, greedy and beam decoding, BLEU, pictures, checkpoints, CLI."""

from __future__ import annotations

import json
import random
import zipfile

import pytest
import torch
from click.testing import CliRunner

from musicgen.cli.main import main
from musicgen.errors import CheckpointError, CorpusError
from musicgen.model.core import pad_sequences
from musicgen.tasks.translate import (
    Pair,
    ParallelDataError,
    SubwordVocab,
    TranslateTrainConfig,
    TranslatorConfig,
    corpus_bleu,
    load_translation_model,
    plot_attention,
    read_parallel,
    read_tsv_pairs,
    sample_pairs,
    split_pairs,
    train_translator,
)
from musicgen.tasks.translate.decode import beam_decode, greedy_decode
from musicgen.tasks.translate.model import Translator
from musicgen.tasks.translate.subword import MIN_VOCAB_SIZE
from musicgen.tasks.translate.translator import MAX_SOURCE_PIECES

# A toy language pair: each English word has one "French" word; adjectives follow the noun.
NOUNS = {"cat": "chat", "dog": "chien", "house": "maison", "car": "voiture", "tree": "arbre", "bird": "oiseau"}
ADJECTIVES = {"big": "grand", "small": "petit", "red": "rouge", "green": "vert"}
VERBS = {"sees": "voit", "likes": "aime", "has": "a"}


def toy_pairs(n: int, seed: int = 0) -> list[Pair]:
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        (n1, f1), (n2, f2) = rng.sample(sorted(NOUNS.items()), 2)
        (a, fa), (v, fv) = rng.choice(sorted(ADJECTIVES.items())), rng.choice(sorted(VERBS.items()))
        pairs.append(Pair(f"The {a} {n1} {v} the {n2}.", f"Le {f1} {fa} {fv} le {f2}."))
    return pairs


@pytest.fixture(scope="module")
def toy_model():
    """A small translator trained for a few seconds on the toy pairs."""
    run = train_translator(
        toy_pairs(800),
        toy_pairs(60, seed=1),
        ("en", "fr"),
        TranslatorConfig(1, 1, embedding_size=32, hidden_size=32, dropout=0.0, embedding_dropout=0.0),
        TranslateTrainConfig(epochs=6, batch_size=32, learning_rate=1e-2, seed=0),
        progress=False,
    )
    return run


def test_read_parallel_files_and_their_errors(tmp_path):
    (tmp_path / "a.de").write_text("Ein Hund.\n\nZwei Katzen.\n")
    (tmp_path / "a.en").write_text("A dog.\n\nTwo cats.\n")
    assert read_parallel(tmp_path / "a.de", tmp_path / "a.en") == [
        Pair("Ein Hund.", "A dog."),
        Pair("Zwei Katzen.", "Two cats."),
    ]
    (tmp_path / "b.en").write_text("A dog.\n")
    with pytest.raises(ParallelDataError, match="has 3 lines but .* has 1"):
        read_parallel(tmp_path / "a.de", tmp_path / "b.en")
    (tmp_path / "c.en").write_text("A dog.\nstray\nTwo cats.\n")
    with pytest.raises(ParallelDataError, match="line 2: empty on one side"):
        read_parallel(tmp_path / "a.de", tmp_path / "c.en")
    with pytest.raises(ParallelDataError, match="no such file"):
        read_parallel(tmp_path / "absent.de", tmp_path / "a.en")


def test_tsv_pairs_plain_zipped_and_reversed(tmp_path):
    text = "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org\nRun!\tCours !\n"
    (tmp_path / "fra.txt").write_text(text)
    with zipfile.ZipFile(tmp_path / "fra-eng.zip", "w") as archive:
        archive.writestr("_about.txt", "credits")
        archive.writestr("fra.txt", text)
    expected = [Pair("Go.", "Va !"), Pair("Run!", "Cours !")]
    assert read_tsv_pairs(tmp_path / "fra.txt") == expected == read_tsv_pairs(tmp_path / "fra-eng.zip")
    assert read_tsv_pairs(tmp_path / "fra.txt", reverse=True)[0] == Pair("Va !", "Go.")
    (tmp_path / "bad.txt").write_text("Go.\tVa !\nno tab here\n")
    with pytest.raises(ParallelDataError, match="bad.txt:2"):
        read_tsv_pairs(tmp_path / "bad.txt")


SENTENCES = [
    "Un homme en T-shirt rouge mange une pomme.",
    "Deux chiens jouent dans la neige près d'un arbre.",
    "Une femme âgée lit « Le Monde » à 9h30, café à la main.",
    "Straße, Kühe und Größe: 3 Männer über 40!",
]


def test_subwords_spell_any_text_and_give_it_back_unchanged():
    vocab = SubwordVocab.train(SENTENCES * 20, vocab_size=400)
    assert 260 < len(vocab) <= 400
    for text in [*SENTENCES, "Ein völlig neues Wort: Zwölfgeschoss 🎻 ÆØÅ 中文", "J'ai froid."]:
        ids = vocab.encode(text)
        assert vocab.unk_id not in ids and vocab.decode(ids) == text
    assert vocab.decode([vocab.bos_id, *vocab.encode("Un homme."), vocab.eos_id]) == "Un homme."
    again = SubwordVocab.from_text(vocab.to_text())
    assert again.encode(SENTENCES[2]) == vocab.encode(SENTENCES[2])
    assert SubwordVocab.train(SENTENCES * 20, vocab_size=400).model == vocab.model  # same text, same pieces


def test_subword_vocabulary_errors():
    with pytest.raises(ValueError, match=f"{MIN_VOCAB_SIZE} or more"):
        SubwordVocab.train(SENTENCES, vocab_size=100)
    with pytest.raises(ValueError, match="vocab_size"):
        TranslateTrainConfig(vocab_size=10)
    with pytest.raises(CorpusError, match="no text"):
        SubwordVocab.train(["", "  "])
    with pytest.raises(CheckpointError, match="base64"):
        SubwordVocab.from_text("not base64 !")
    with pytest.raises(CheckpointError, match="not a subword vocabulary"):
        SubwordVocab(b"\x00garbage")


def test_sample_pairs_is_seeded_and_keeps_order():
    pairs = [Pair(f"S{i}.", f"P{i}.") for i in range(100)]
    chosen = sample_pairs(pairs, 10, seed=3)
    assert len(chosen) == 10 and chosen == sample_pairs(pairs, 10, seed=3) != sample_pairs(pairs, 10, seed=4)
    assert chosen == sorted(chosen, key=pairs.index) and sample_pairs(pairs, 500) == pairs


def test_split_keeps_every_copy_of_an_english_sentence_on_one_side():
    pairs = [Pair(f"Sentence {i % 40}.", f"Phrase {i}.") for i in range(400)]  # each English sentence 10 times
    kept, held = split_pairs(pairs, 0.2, key="source")
    assert held and {p.source for p in kept}.isdisjoint({p.source for p in held})


@pytest.mark.parametrize("attention", ["additive", "dot", "general"])
def test_padding_gets_no_attention_and_changes_nothing(attention):
    torch.manual_seed(0)
    net = Translator(TranslatorConfig(20, 20, embedding_size=8, hidden_size=6, attention=attention)).eval()
    short, target = torch.tensor([[5, 6, 3]]), torch.tensor([[2, 7, 8]])
    alone, weights_alone = net(short, torch.tensor([3]), target)
    padded = torch.tensor([[5, 6, 3, 0, 0], [9, 10, 11, 12, 3]])
    together, weights = net(padded, torch.tensor([3, 5]), torch.cat([target, target]))
    assert torch.allclose(alone, together[:1], atol=1e-5)
    assert torch.all(weights[0, :, 3:] == 0) and torch.allclose(weights.sum(2), torch.ones(2, 3))


def test_toy_translator_learns_and_beam_is_at_least_as_good(toy_model):
    test = toy_pairs(80, seed=2)
    greedy_bleu, chrf, signature = corpus_bleu(toy_model.model, test, beam=1)
    beam_bleu = corpus_bleu(toy_model.model, test, beam=4)[0]
    assert greedy_bleu.score > 60 and chrf.score > 60
    assert beam_bleu.score >= greedy_bleu.score - 1.0
    assert "tok:13a" in signature.format() and "case:mixed" in signature.format()


def test_beam_of_one_is_greedy(toy_model):
    model = toy_model.model
    source, lengths = pad_sequences([model.source_ids(s) for s in ("The big cat sees the dog.", "The red car.")])
    greedy = greedy_decode(model.net, source, lengths)
    beam = beam_decode(model.net, source, lengths, beam=1)
    assert [h.ids for h in greedy] == [h.ids for h in beam]


def test_empty_unknown_and_overlong_sentences_have_defined_results(toy_model):
    model = toy_model.model
    empty, unknown, long = model.translate(["", "Zyx qwv plo ü 🎻.", "The cat " * 400 + "."], beam=3)
    assert empty.text == "" and empty.target_pieces == []
    assert isinstance(unknown.text, str) and not unknown.truncated
    assert unknown.source_pieces.count("<unk>") == 0  # unseen letters are spelt as bytes
    assert long.truncated and len(long.source_pieces) == MAX_SOURCE_PIECES
    assert len(long.target_pieces) <= 2 * (MAX_SOURCE_PIECES + 1) + 10  # the limit counts <eos> too


def test_attention_picture(tmp_path, toy_model):
    result = toy_model.model.translate(["The small bird likes the tree."])[0]
    assert result.attention.shape == (len(result.target_pieces), len(result.source_pieces))
    path = plot_attention(result, tmp_path / "attention.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_checkpoint_round_trip_and_wrong_task(tmp_path, toy_model, tiny_run):
    toy_model.model.save(tmp_path / "mt.pt")
    loaded = load_translation_model(tmp_path / "mt.pt")
    sentences = ["The red dog has the house.", "The cat."]
    assert [t.text for t in loaded.translate(sentences, beam=3)] == [
        t.text for t in toy_model.model.translate(sentences, beam=3)
    ]
    with pytest.raises(CheckpointError, match="not a translation model"):
        load_translation_model(tiny_run / "model.pt")
    folder = toy_model.model.save_pretrained(tmp_path / "folder")
    vocab_file = folder / "vocab.json"
    vocab_file.write_text(json.dumps({"source": ["<pad>", "<unk>", "<bos>", "<eos>"], "target": []}))
    with pytest.raises(CheckpointError, match="older musicgen.*retrain"):
        load_translation_model(folder)
    vocab_file.write_text(json.dumps({"subwords": ["QUJD", "QUJD"]}))
    with pytest.raises(CheckpointError, match="not a subword vocabulary"):
        load_translation_model(folder)


def test_cli_translate_evaluate_and_bad_input(tmp_path, toy_model):
    runner = CliRunner()
    model = tmp_path / "mt.pt"
    toy_model.model.save(model)
    result = runner.invoke(
        main, ["translate", "--model", str(model), "The big cat sees the dog.", "--attention", str(tmp_path / "a.png")]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("Le chat") and (tmp_path / "a.png").is_file()
    result = runner.invoke(
        main, ["translate", "--model", str(model), "The cat.", "--attention", str(tmp_path / "a.png")]
    )
    assert result.exit_code == 1 and "--force" in result.output
    result = runner.invoke(main, ["translate", "--model", str(model), "--beam", "1"], input="The red car.\n\n")
    assert result.exit_code == 0 and len(result.output.splitlines()) == 2
    pairs = toy_pairs(30, seed=5)
    (tmp_path / "v.en").write_text("\n".join(p.source for p in pairs))
    (tmp_path / "v.fr").write_text("\n".join(p.target for p in pairs[:-1]))
    result = runner.invoke(
        main,
        [
            "translate",
            "evaluate",
            "--model",
            str(model),
            "--source",
            str(tmp_path / "v.en"),
            "--target",
            str(tmp_path / "v.fr"),
        ],
    )
    assert result.exit_code == 1 and "has 30 lines but" in result.output
    (tmp_path / "v.fr").write_text("\n".join(p.target for p in pairs))
    result = runner.invoke(
        main,
        [
            "translate",
            "evaluate",
            "--model",
            str(model),
            "--source",
            str(tmp_path / "v.en"),
            "--target",
            str(tmp_path / "v.fr"),
        ],
    )
    assert result.exit_code == 0 and "signature: nrefs:1|case:mixed" in result.output
    out = tmp_path / "new.pt"
    result = runner.invoke(
        main,
        [
            "translate",
            "train",
            "--source",
            str(tmp_path / "v.en"),
            "--target",
            str(tmp_path / "absent.fr"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 1 and "no such file" in result.output and not out.exists()
    result = runner.invoke(main, ["translate", "--model", str(tmp_path / "v.en"), "hello"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1


def test_cli_train_writes_a_model(tmp_path):
    pairs = toy_pairs(200)
    (tmp_path / "pairs.txt").write_text("".join(f"{p.source}\t{p.target}\n" for p in pairs))
    out = tmp_path / "mt.pt"
    result = CliRunner().invoke(
        main,
        [
            "translate",
            "train",
            "--pairs",
            str(tmp_path / "pairs.txt"),
            "--languages",
            "en",
            "fr",
            "--epochs",
            "1",
            "--hidden-size",
            "16",
            "--embedding-size",
            "16",
            "--quiet",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "best validation BLEU" in result.output and load_translation_model(out).source_language == "en"
    before = out.read_bytes()
    again = CliRunner().invoke(main, ["translate", "train", "--pairs", str(tmp_path / "pairs.txt"), "--out", str(out)])
    assert again.exit_code == 1 and "--force" in again.output and out.read_bytes() == before


def test_cli_train_reads_files_and_sampled_pairs_together(tmp_path):
    files, extra = toy_pairs(150), toy_pairs(400, seed=7)
    (tmp_path / "t.en").write_text("\n".join(p.source for p in files))
    (tmp_path / "t.fr").write_text("\n".join(p.target for p in files))
    (tmp_path / "extra.txt").write_text("".join(f"{p.source}\t{p.target}\n" for p in extra))
    out = tmp_path / "mt"
    args = ["translate", "train", "--source", str(tmp_path / "t.en"), "--target", str(tmp_path / "t.fr")]
    args += ["--pairs", str(tmp_path / "extra.txt"), "--pairs-sample", "50", "--languages", "en", "fr"]
    args += ["--epochs", "1", "--hidden-size", "8", "--embedding-size", "8", "--vocab-size", "300", "--quiet"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(load_translation_model(out).target_vocab) <= 300
    result = CliRunner().invoke(main, [*args[:4], "--out", str(tmp_path / "other")])
    assert result.exit_code == 2 and "both --source and --target" in result.output


def test_cli_train_goes_on_from_a_saved_translator(tmp_path):
    pairs = toy_pairs(200)
    (tmp_path / "pairs.txt").write_text("".join(f"{p.source}\t{p.target}\n" for p in pairs))
    args = ["translate", "train", "--pairs", str(tmp_path / "pairs.txt"), "--languages", "en", "fr", "--quiet"]
    args += ["--epochs", "1", "--hidden-size", "16", "--embedding-size", "16"]
    assert CliRunner().invoke(main, [*args, "--out", str(tmp_path / "first")]).exit_code == 0
    first = load_translation_model(tmp_path / "first")
    # the saved shape, subwords and languages are kept, whatever the options say
    result = CliRunner().invoke(
        main,
        [*args, "--hidden-size", "32", "--languages", "de", "en"]
        + ["--init", str(tmp_path / "first"), "--out", str(tmp_path / "second")],
    )
    assert result.exit_code == 0, result.output
    second = load_translation_model(tmp_path / "second")
    assert (second.source_language, second.target_language) == ("en", "fr")
    assert second.net.config == first.net.config
    assert second.source_vocab.to_text() == first.source_vocab.to_text()
    missing = CliRunner().invoke(main, [*args, "--init", str(tmp_path / "none"), "--out", str(tmp_path / "third")])
    assert missing.exit_code != 0 and len(missing.output.strip().splitlines()) == 1
    assert not (tmp_path / "third").exists()


def test_bundled_model_translates_english_to_french():
    model = load_translation_model()
    assert (model.source_language, model.target_language) == ("en", "fr")
    cold, station = model.translate(["I am cold.", "Where is the station?"], beam=5)
    assert cold.text.lower().startswith(("j'ai froid", "je suis froid"))  # the small model says the latter
    assert station.text == "Où est la gare ?"
    result = CliRunner().invoke(main, ["translate", "I am cold."])
    assert result.exit_code == 0 and result.output.strip() == cold.text


def test_stdin_is_read_for_a_dash_and_for_no_text():
    runner = CliRunner()
    for args in (["translate"], ["translate", "-"], ["translate", "text", "-"]):
        result = runner.invoke(main, args, input="I am cold.\nWhere is the station?\n")
        assert result.exit_code == 0, result.output
        assert len(result.output.strip().splitlines()) == 2 and "gare" in result.output
    result = runner.invoke(main, ["sentiment", "predict", "-"], input="A wonderful film.\nAn awful film.\n")
    assert result.exit_code == 0 and len(result.output.strip().splitlines()) == 2
    assert "\t-" not in result.output


def test_an_empty_validation_split_is_one_line(tmp_path):
    (tmp_path / "p.txt").write_text("hello\tbonjour\n")
    result = CliRunner().invoke(
        main, ["translate", "train", "--pairs", str(tmp_path / "p.txt"), "--quiet", "--out", str(tmp_path / "t.pt")]
    )
    assert result.exit_code == 1 and "validation 0" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "t.pt").exists()
