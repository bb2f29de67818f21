"""The character language model: the recurrent core plus a linear head, and how it is saved and loaded."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from musicgen.abc.position import POSITION_CODES, form_positions
from musicgen.abc.transpose import TonicTable
from musicgen.errors import CheckpointError, SamplingError
from musicgen.model.checkpoint import build_from_checkpoint, bundled_model_path
from musicgen.model.config import ModelConfig, SampleConfig
from musicgen.model.core import RecurrentCore, State, embedding
from musicgen.model.persistence import Saves, float_weights, load_model_data
from musicgen.model.vocab import Vocabulary
from musicgen.sampling.echo import check_weights

#: The bundled music model: a saved folder inside the package.
BUNDLED_MUSIC_MODEL = "music"
#: Parts of a checkpoint that say how a model was trained, kept when it is saved again.
_PROVENANCE = ("train_config", "step", "metrics")


class CharLM(Saves, nn.Module):
    """Predicts the next character of ABC text.

    Attributes:
        config: the model's shape.
        vocab: the characters it reads and writes.
        tonics: for a model trained on tunes moved to one tonic, that tonic and
            the tonics to move new tunes to (None: keys as written).
        echo: the echo's weights, fitted to real tunes (:mod:`musicgen.sampling.echo`;
            None: no echo).
        sampling: the sampling settings recommended for this model, by
            :class:`~musicgen.model.config.SampleConfig` field (saved with it;
            empty: the config's defaults).
    """

    def __init__(self, config: ModelConfig, vocab: Vocabulary):
        super().__init__()
        if config.vocab_size != len(vocab):
            raise ValueError(f"vocab_size {config.vocab_size} != vocabulary of {len(vocab)}")
        if config.bidirectional:
            raise ValueError("a language model reads left to right: bidirectional must be False")
        self.config = config
        self.vocab = vocab
        self.tonics: TonicTable | None = None
        self.sampling: dict = {}
        self.echo: tuple[float, ...] | None = None  # fitted echo weights (musicgen.sampling.echo)
        self.header_counts: dict = {}  # training tunes per type and meter (musicgen.sampling.familiar)
        self.provenance: dict = {}  # how it was trained: train_config, step, metrics (kept when saved again)
        self.core = RecurrentCore(config)
        self.head = nn.Linear(self.core.output_size, config.vocab_size)
        # Where the tune stands in its form code, added to each character's embedding.
        self.positions = embedding(POSITION_CODES, config.embedding_size) if config.form_positions else None

    def init_hidden(self, batch_size: int) -> State:
        return self.core.init_hidden(batch_size)

    def forward(
        self, ids: torch.Tensor, state: State | None = None, positions: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, State]:
        """Next-character logits (B, T, V) for ids (B, T), and the final state.

        ``positions`` (B, T): each character's form position (:func:`text_positions`), read by a
        model with ``form_positions``; None reads none (the header's code) for every character.
        """
        extra = None
        if self.positions is not None:
            extra = self.positions(torch.zeros_like(ids) if positions is None else positions)  # (B, T, E)
        features, state = self.core(ids, state, extra=extra)
        return self.head(features), state

    @classmethod
    def from_pretrained(cls, path: Path | str | None = None, device: str = "cpu") -> CharLM:
        """:func:`load_model`: a saved folder, a run folder, a ``.pt`` checkpoint, or None for the bundled model."""
        return load_model(path, device)

    def payload(self, half: bool = False) -> dict:
        """The model's parts, shaped as a checkpoint (weights under ``"model"``)."""
        return {
            **self.provenance,
            "task": "lm",
            "model_config": self.config.to_dict(),
            "vocab": self.vocab.chars,
            "tonics": self.tonics.to_dict() if self.tonics else None,
            "sampling": dict(self.sampling),
            "echo": list(self.echo) if self.echo else None,
            "header_counts": self.header_counts or None,
            "model": float_weights(self.state_dict(), half),
        }

    def __repr__(self) -> str:
        c = self.config
        params = sum(p.numel() for p in self.parameters())
        return f"CharLM({c.cell} {c.num_layers}x{c.hidden_size}, vocab {c.vocab_size}, {params:,} parameters)"


def text_positions(text: str) -> list[int]:
    """The form position of each symbol a model reads for ``text``: the start marker, then each
    character (:func:`~musicgen.abc.position.form_positions`)."""
    return [0, *form_positions(text)]


def bits_per_char(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed cross-entropy in bits over the unmasked positions, and their count.

    Args:
        logits: (B, T, V); targets and mask: (B, T), mask true where counted.
    """
    loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none")
    weights = mask.flatten().to(loss.dtype)
    return (loss * weights).sum() / math.log(2), weights.sum()


def load_model(path: str | Path | None = None, device: str = "cpu") -> CharLM:
    """Load a language model.

    Args:
        path: a saved model folder, a training run folder (its ``model.pt``)
            or a ``.pt`` checkpoint; None loads the bundled model.
        device: where to put the weights.

    Raises:
        CheckpointError: missing, corrupt, or not a language model.
    """
    if path is None:
        path = bundled_model_path(BUNDLED_MUSIC_MODEL)
        if not path.is_dir():
            raise CheckpointError("no bundled model in this install: train one with 'musicgen train'")
    path = Path(path)
    data = load_model_data(path, "lm", "music model")
    try:
        vocab = Vocabulary(data["vocab"])
        tonics = TonicTable.from_dict(data["tonics"]) if data.get("tonics") else None
        echo = check_weights(data["echo"]) if data.get("echo") is not None else None
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        reason = str(error)[:160]
        raise CheckpointError(f"{path}: its vocabulary, tonics or echo weights are not valid ({reason})") from None
    model = build_from_checkpoint(path, data, lambda: CharLM(ModelConfig.from_dict(data["model_config"]), vocab))
    model.tonics, model.echo = tonics, echo
    model.sampling = data.get("sampling") or {}
    model.header_counts = _checked_counts(path, data.get("header_counts"))
    model.provenance = {key: data[key] for key in _PROVENANCE if data.get(key) is not None}
    try:
        recommended_config(model)
    except SamplingError as error:
        raise CheckpointError(f"{path}: its recommended sampling settings are not valid ({error})") from None
    model.eval()
    return model.to(device)


def recommended_config(model: CharLM) -> SampleConfig:
    """The sampling settings saved with the model (``model.sampling``), the rest :class:`SampleConfig`'s defaults.

    Raises:
        SamplingError: the model's saved settings are not valid.
    """
    saved = getattr(model, "sampling", None) or {}
    return SampleConfig.checked(**{name: saved[name] for name in SampleConfig.field_names() if name in saved})


def export_model(source: str | Path, target: str | Path, half: bool = True, card: str | None = None) -> Path:
    """Write a compact copy of a model for sharing or bundling: a saved folder, or a ``.pt`` file.

    Keeps the weights (in float16 when ``half``), configuration, vocabulary,
    tonics, echo weights, recommended sampling settings, step and training settings; drops
    the optimizer and resume state. ``card``: the model card (a folder's README.md).
    To fit the echo again first, load the model, call
    :func:`musicgen.training.echo.fit_model_echo` and ``model.save`` it.

    Raises:
        CheckpointError: the source is not a readable music model, or the target cannot be written.
    """
    return load_model(source).save(target, half, card)  # loaded first: the weights must fit the model


def _checked_counts(path: Path, counts) -> dict:
    """A checkpoint's header counts, if they are a dict of dicts of whole numbers (else a CheckpointError)."""
    if counts is None:
        return {}
    valid = isinstance(counts, dict) and all(
        isinstance(table, dict) and all(isinstance(n, int) and not isinstance(n, bool) for n in table.values())
        for table in counts.values()
    )
    if not valid:
        raise CheckpointError(f"{path}: its header counts are not tables of whole numbers")
    return counts
