"""The recurrent core shared by every task, and the language model on it."""

import pytest
import torch

from musicgen.model.config import ModelConfig
from musicgen.model.core import RecurrentCore, scale_state, select_state
from musicgen.model.lm import CharLM
from musicgen.model.vocab import Vocabulary


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_core_shapes_for_each_cell(cell, bidirectional):
    config = ModelConfig(
        vocab_size=11, embedding_size=8, hidden_size=16, num_layers=2, cell=cell, bidirectional=bidirectional
    )
    core = RecurrentCore(config)
    ids = torch.randint(0, 11, (3, 7))
    features, state = core(ids, core.init_hidden(3))
    assert features.shape == (3, 7, 16 * (2 if bidirectional else 1))
    layers = 2 * (2 if bidirectional else 1)
    h = state[0] if cell == "lstm" else state
    assert h.shape == (layers, 3, 16)


def test_state_carries_over_windows():
    core = RecurrentCore(ModelConfig(vocab_size=5, hidden_size=8, num_layers=1, dropout=0.0)).eval()
    ids = torch.randint(0, 5, (2, 10))
    whole, _ = core(ids)
    first, state = core(ids[:, :4])
    second, _ = core(ids[:, 4:], state)
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole)


def test_identity_init_and_relu():
    config = ModelConfig(vocab_size=5, hidden_size=6, cell="rnn", nonlinearity="relu", identity_init=True)
    core = RecurrentCore(config)
    assert torch.equal(core.rnn.weight_hh_l0, torch.eye(6))
    assert core.rnn.nonlinearity == "relu"


def test_select_and_scale_state():
    state = (torch.arange(6.0).view(1, 3, 2), torch.ones(1, 3, 2))
    kept = select_state(state, torch.tensor([0, 2]))
    assert kept[0].tolist() == [[[0.0, 1.0], [4.0, 5.0]]]
    reset = scale_state(state, torch.tensor([1.0, 0.0, 1.0]))
    assert reset[1][0, 1].tolist() == [0.0, 0.0]


def test_bad_options_raise_value_error_with_allowed_values():
    with pytest.raises(ValueError, match="cell must be one of lstm, gru, rnn"):
        ModelConfig(vocab_size=3, cell="transformer")
    with pytest.raises(ValueError, match="dropout must be in range"):
        ModelConfig(vocab_size=3, dropout=1.0)
    with pytest.raises(ValueError, match="hidden_size must be positive"):
        ModelConfig(vocab_size=3, hidden_size=0)


def test_language_model_predicts_over_the_vocabulary():
    vocab = Vocabulary.from_texts(["ABC|"])
    model = CharLM(ModelConfig(vocab_size=len(vocab), hidden_size=8), vocab)
    logits, _ = model(torch.tensor([vocab.encode("AB|")]))
    assert logits.shape == (1, 3, len(vocab))
    with pytest.raises(ValueError, match="vocab_size"):
        CharLM(ModelConfig(vocab_size=3), vocab)
