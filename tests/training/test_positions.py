"""A model that reads form positions: trained on them, saved with them, and told the same ones as it samples."""

import pytest
import torch

from musicgen.abc.corpus import load_corpus
from musicgen.abc.position import NO_POSITION, form_positions
from musicgen.model.config import ModelConfig, TrainConfig
from musicgen.model.lm import load_model, text_positions
from musicgen.model.stepper import make_stepper, stepper_bits_per_char
from musicgen.sampling.sampler import generate
from musicgen.sampling.stream import Stream
from musicgen.training.data import encode_positions, encode_tunes
from musicgen.training.loop import Trainer
from musicgen.training.measures import evaluate_bpc

READS = ModelConfig(vocab_size=1, hidden_size=32, num_layers=1, embedding_size=8, dropout=0.0, form_positions=True)
REEL = "N:AABB 2\nM:4/4\nL:1/8\nK:D\n|:ABcd efga|fedc BAFA:|\n|:d2fd adfd|edcB A4:|"


@pytest.fixture(scope="module")
def corpus(small_corpus):
    return load_corpus([small_corpus])


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    config = TrainConfig(batch_size=16, seq_len=48, max_steps=16, eval_interval=8, warmup_steps=3, seed=3, tonic="")
    trainer = Trainer(corpus, tmp_path_factory.mktemp("positions"), READS, config)
    trainer.run(progress=False)
    return trainer


def test_training_reads_each_tunes_positions_beside_its_characters(trained, corpus):
    texts = corpus.texts("train")  # tonic "": the tunes as read, codes written in
    assert len(trained.train_positions) == len(trained.train_tunes) == len(texts)
    for text, ids, positions in zip(texts[:20], trained.train_tunes, trained.train_positions):
        assert len(positions) == len(ids)  # start marker, characters, end marker
        assert positions.tolist()[1:-1] == form_positions(text)
    assert any(set(p.tolist()) != {NO_POSITION} for p in trained.train_positions)  # the codes are there to read
    assert trained.model.config.form_positions and trained.model.positions is not None


def test_the_positions_change_what_the_model_predicts(trained):
    model = trained.model.eval()
    ids = torch.tensor([[model.vocab.start_id, *model.vocab.encode(REEL)]])
    told = model(ids, None, torch.tensor([text_positions(REEL)]))[0]
    untold = model(ids)[0]
    assert not torch.allclose(told, untold)
    tunes = encode_tunes([REEL], model.vocab)
    given = evaluate_bpc(model, tunes, 4, 16, encode_positions([REEL]))
    assert evaluate_bpc(model, tunes, 4, 16) == pytest.approx(given)  # computed from the text when not given


def test_the_fast_step_reads_the_positions_as_the_module_does(trained):
    model = trained.model.eval()
    fast, plain = make_stepper(model), make_stepper(model, fast=False)
    ids, positions = torch.tensor([3, 5, 7]), torch.tensor([0, 9, 35])
    state = model.init_hidden(3)
    for _ in range(4):
        fast_logits, _ = fast(ids, state, positions)
        plain_logits, state = plain(ids, state, positions)
        torch.testing.assert_close(fast_logits, plain_logits, rtol=1e-5, atol=1e-5)
    tunes = encode_tunes([REEL], model.vocab)
    assert stepper_bits_per_char(model, tunes) == pytest.approx(evaluate_bpc(model, tunes, 4, 1000), rel=1e-4)
    options = dict(n=3, seed=2, max_length=300, header={"N": "AABB 8"})
    assert [t.abc for t in generate(model, **options)] == [t.abc for t in generate(model, **options, fast=False)]


def test_a_tune_being_written_is_told_the_positions_training_read(trained):
    prime = REEL[: REEL.index("K:D\n") + 4]
    stream = Stream(prime, {}, bar_tries=2, positions=True)
    told = []
    for char in REEL[len(prime) :]:
        stream.write(char)
        told.append(stream.form_position())
    assert told == form_positions(REEL)[len(prime) :]
    assert Stream("N:AABB 2\n", {}, positions=True).form_position() == NO_POSITION
    assert Stream(prime, {}).form_position() == NO_POSITION  # kept only where asked for


def test_a_saved_model_keeps_its_positions_and_writes_the_same_tunes(trained, tmp_path):
    saved = trained.model.save_pretrained(tmp_path / "saved")
    loaded = load_model(saved)
    assert loaded.config.form_positions and torch.equal(loaded.positions.weight, trained.model.positions.weight)
    header = {"N": "AABB 8"}
    assert [t.abc for t in generate(loaded, n=2, seed=4, max_length=300, header=header)] == [
        t.abc for t in generate(trained.model, n=2, seed=4, max_length=300, header=header)
    ]
