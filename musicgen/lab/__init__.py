"""The lecture, runnable: experiments on why recurrent cells and gates matter.

Each experiment trains what it needs on the CPU in minutes, writes
``plot.png`` and ``table.md`` under its folder and returns a
:class:`LabResult` whose ``findings`` say what the figures show::

    from musicgen import lab

    result = lab.run_experiment("gradients", "outputs/lab/gradients")
    print("\\n".join(result.findings))

Experiments: ``order`` (bag of words, fixed window and BiLSTM on word-order
sentences), ``gradients`` (gradient norm against distance per cell; clipping),
``memory`` (accuracy against distance on a recall task), ``temperature``
(sampling temperature against the samples' bits/char, well-formedness and
novelty).
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from musicgen.lab.report import LabResult

EXPERIMENTS = ("order", "gradients", "memory", "temperature")

__all__ = ["EXPERIMENTS", "LabResult", "run_experiment"]


def run_experiment(name: str, out_dir: Path | str | None = None, **settings) -> LabResult:
    """Run one experiment; ``settings`` go to its ``run`` (e.g. ``steps=100`` for a quick one).

    Raises:
        ValueError: an unknown experiment.
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {', '.join(EXPERIMENTS)}, not {name!r}")
    out_dir = Path(out_dir) if out_dir is not None else Path("outputs") / "lab" / name
    return import_module(f"musicgen.lab.{name}").run(out_dir, **settings)
