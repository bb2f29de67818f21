"""Configuration dataclasses, mapped one to one onto CLI options.

Each class's ``Attributes`` section is the one description of its fields: the
CLI's option help is read from it (:mod:`musicgen.cli.options`), and so is the
API reference. The defaults here are the CLI's defaults.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields

CELLS = ("lstm", "gru", "rnn")
NONLINEARITIES = ("tanh", "relu")
PRECISIONS = ("fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda", "mps")


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")


def check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be positive, not {value}")


class Settings:
    """Conversion to and from plain dicts, as stored in checkpoints."""

    def to_dict(self) -> dict:
        return asdict(self)  # type: ignore[call-overload]  # every subclass is a dataclass

    @classmethod
    def from_dict(cls, data: dict):
        """Build from a dict, ignoring keys this version does not know."""
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class ModelConfig(Settings):
    """Shape of the recurrent core and its language-model head.

    Attributes:
        vocab_size: number of input symbols (characters or words).
        embedding_size: width of the input embedding.
        hidden_size: units per recurrent layer.
        num_layers: stacked recurrent layers.
        cell: ``lstm``, ``gru`` or ``rnn`` (the lecture's vanilla RNN).
        nonlinearity: ``tanh`` or ``relu``, for cell ``rnn`` only.
        identity_init: for cell ``rnn``: recurrent weights start as the identity.
        dropout: dropout between layers and before the head (0 to < 1).
        bidirectional: read the sequence both ways (encoders, classifiers).
        embedding_dropout: dropout on the embedded input (0 to < 1).
        form_positions: a language model also reads, beside each character, where its tune
            stands in its ``N:`` form code (:mod:`musicgen.abc.position`): bars left in the part,
            and whether it is the last.
    """

    vocab_size: int
    embedding_size: int = 64
    hidden_size: int = 512
    num_layers: int = 2
    cell: str = "lstm"
    nonlinearity: str = "tanh"
    identity_init: bool = False
    dropout: float = 0.2
    bidirectional: bool = False
    embedding_dropout: float = 0.0
    form_positions: bool = False

    def __post_init__(self) -> None:
        check_choice("cell", self.cell, CELLS)
        check_choice("nonlinearity", self.nonlinearity, NONLINEARITIES)
        for name in ("vocab_size", "embedding_size", "hidden_size", "num_layers"):
            check_positive(name, getattr(self, name))
        for name in ("dropout", "embedding_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in range 0..1 (excluding 1), not {getattr(self, name)}")


@dataclass
class TrainConfig(Settings):
    """How the language model is trained.

    Attributes:
        batch_size: tunes per batch, read side by side.
        seq_len: characters per truncated-backpropagation window.
        learning_rate: Adam's peak learning rate.
        max_steps: optimizer steps in the whole run.
        warmup_steps: linear warm-up before the cosine decay.
        clip_norm: gradient-norm clipping threshold.
        eval_interval: steps between validations (and checkpoints).
        patience: validations without improvement before stopping early
            (0: never).
        seed: seed for weights, data order and dropout.
        device: ``auto`` (cuda, then mps, then cpu), ``cpu``, ``cuda`` or ``mps``.
        precision: ``fp32``, or ``bf16`` for bfloat16 autocast (mixed
            precision: weights and optimizer stay float32), for GPUs and CPUs
            with bf16 units (2.5-2.9x faster on an AMX CPU); where the
            device has no bf16 kernels for the cell, training stops before
            its first step with a one-line error.
        time_limit: minutes of training before stopping, validating and
            saving first (validation not counted; 0: no limit).
        tonic: move every tune to this tonic before training, mode kept
            (K:Ador becomes K:Cdor), so every tune ends on the same note; new
            tunes are moved to the tonics training had (see
            :mod:`musicgen.abc.transpose`). Empty (``none`` on the command
            line) keeps each tune's key as written.
    """

    batch_size: int = 64
    seq_len: int = 128
    learning_rate: float = 3e-3
    max_steps: int = 5000
    warmup_steps: int = 200
    clip_norm: float = 1.0
    eval_interval: int = 300
    patience: int = 5
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    time_limit: float = 0.0
    tonic: str = "C"

    def __post_init__(self) -> None:
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("device", self.device, DEVICES)
        if self.tonic and not re.fullmatch(r"[A-G][#b]?", self.tonic):
            raise ValueError(f"tonic must be a note name such as C, F# or Bb (or empty), not {self.tonic!r}")
        for name in ("batch_size", "seq_len", "learning_rate", "max_steps", "eval_interval", "clip_norm"):
            check_positive(name, getattr(self, name))
        if self.warmup_steps < 0 or self.patience < 0 or self.time_limit < 0:
            raise ValueError("warmup_steps, patience and time_limit must be 0 or more")


@dataclass
class SampleConfig(Settings):
    """How tunes are sampled.

    A model may carry recommended settings (saved with it, see
    :func:`musicgen.sampling.sampler.recommended_config`); these defaults fill
    whatever it does not set.

    Attributes:
        temperature: divides the logits; below 1 is safer (better-formed
            tunes), above 1 wilder.
        top_k: keep only the k most likely characters (0 keeps every character).
        top_p: keep the smallest set whose probability reaches p (1 keeps every character).
        max_length: characters per tune at most, before it is cut off (99.9%
            of corpus tunes are under 950).
        seed: seed for the sampler: same seed, same tunes; None draws a fresh one.
        header_drafts: with header fields given (key, meter...), headers
            drafted per tune; one is kept, drawn by how likely the model finds
            the given fields after the lines it wrote itself (1: no drafts).
        end_drafts: ending drafts per tune (a tune held to a whole N: form
            code given before sampling, as a plain ``musicgen generate`` gives
            N:AABB 8, is written once and split into them for its last bars;
            any other is drafted whole); the one kept converts, defines
            every part its P: line plays, has no bar abc2midi would report an
            error in, does not
            end on a jump back (D.C., D.S.), has the parts its N: form code
            names, ends on its key's tonic where a draft does, and among those is the one the model is surest has ended
            where it ended (the likeliest end marker, at temperature 1), so
            tunes close their last section instead of stopping mid-phrase
            (1: no drafts).
        bar_tries: times a bar whose notes do not fill the meter, or that
            abc2midi would report an error in, is drawn again; a short bar may
            still end a section or the tune (0: bars as the model first writes
            them; see :mod:`musicgen.sampling.bars`).
        note_before_end: a tune may not end before its body has a note (see
            :mod:`musicgen.sampling.rules`).
        repeat_order: repeat marks keep the order abc2midi reads them in, and
            a tune may not end with a repeat open.
        hornpipe_meters: a hornpipe's meter is one abc2midi plays a hornpipe in.
        form_end: a tune asked for a form (``--form AABB``: the code ``N:AABB 8``),
            or for a tune type (the code drawn for it), keeps its parts, bars and
            repeats, and ends once they are written; an ``N:`` line the model
            writes is a form code, and for a dance (``--type reel``) one of 8 bars
            or more.
        spacing: no run of more than two spaces or backquotes in a tune's body
            (a run spaces notes no differently than one).
        open_marks: chords, texts, decorations and inline fields are closed on
            the line they open, and a chord holds only what abc2midi takes in one.
        stray_signs: no length, slash, octave mark, accidental or one-character
            decoration without a note to belong to (``d2 2``, ``(AB)2``, ``|:1``,
            ``^ |``, ``T :|``), and no sign abc2midi does not read in the music
            (``?``, ``#``...).
        broken_rhythm: a broken rhythm (``A2>B2``) over two notes written
            equally long, the second not staccato where the first is plain.
        hornpipe_pairs: in a tune abc2midi plays as a hornpipe, the two notes
            of each swung pair marked staccato or fermata both or neither
            (masked where ``bar_tries`` is 0; else the bar verifier judges it).
        echo: mix the model's guess at each character with what the tune's
            own earlier bars that begin alike say comes next, by weights fitted
            to real tunes and saved with the model, so bars come back as they
            do in real tunes (see :mod:`musicgen.sampling.echo`; a model saved
            without weights has no echo).
    """

    temperature: float = 0.85
    top_k: int = 0
    top_p: float = 1.0
    max_length: int = 1500
    seed: int | None = None
    header_drafts: int = 16
    end_drafts: int = 4
    bar_tries: int = 8
    note_before_end: bool = True
    repeat_order: bool = True
    hornpipe_meters: bool = True
    form_end: bool = True
    spacing: bool = True
    open_marks: bool = True
    stray_signs: bool = True
    broken_rhythm: bool = True
    hornpipe_pairs: bool = True
    echo: bool = True

    def __post_init__(self) -> None:
        check_positive("temperature", self.temperature)
        check_positive("max_length", self.max_length)
        if self.top_k < 0:
            raise ValueError(f"top_k must be 0 or more, not {self.top_k}")
        for name in ("header_drafts", "end_drafts"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be 1 or more, not {getattr(self, name)}")
        if self.bar_tries < 0:
            raise ValueError(f"bar_tries must be 0 or more, not {self.bar_tries}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in range 0..1 (excluding 0), not {self.top_p}")
        for name, highest in SAMPLE_BOUNDS.items():
            if not getattr(self, name) <= highest:
                raise ValueError(f"{name} must be at most {highest:,}, not {getattr(self, name)}")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def checked(cls, *args, **kwargs) -> SampleConfig:
        """A config, with a bad value raised as :class:`~musicgen.errors.SamplingError`."""
        from musicgen.errors import SamplingError

        try:
            return cls(*args, **kwargs)
        except (TypeError, ValueError) as error:
            raise SamplingError(str(error)) from None


#: Largest sampling settings: a tune longer than 10,000 characters cannot be converted, and
#: drafts multiply the rows sampled together (64 tunes x 16 x 4 is the CLI's 4,096).
SAMPLE_BOUNDS = {
    "temperature": 100.0,
    "max_length": 10_000,
    "header_drafts": 64,
    "end_drafts": 16,
    "bar_tries": 64,
    "top_k": 100_000,
}


def recommended_sampling() -> dict:
    """The sampling settings a newly trained model is saved with: :class:`SampleConfig`'s defaults, no seed."""
    return {name: value for name, value in SampleConfig().to_dict().items() if name != "seed"}
