"""Where an experiment's results go: a PNG plot and a Markdown table under one folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from musicgen.extras import need
from musicgen.files import atomic_write


@dataclass
class LabResult:
    """What an experiment found.

    Attributes:
        name: the experiment.
        table: rows of the results table (dicts with the same keys).
        findings: sentences saying what the figures show, computed from them.
        files: the plot and table it wrote.
    """

    name: str
    table: list[dict]
    findings: list[str]
    files: list[Path] = field(default_factory=list)


def markdown_table(rows: list[dict]) -> str:
    """Rows of dicts as a Markdown table (floats to 4 significant figures)."""
    if not rows:
        return ""
    keys = list(rows[0])
    cell = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(row.get(k, "")) for k in keys) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def figure(width: float = 7.0, height: float = 4.2, columns: int = 1):
    """A matplotlib figure and its axes, drawn off-screen."""
    matplotlib = need("matplotlib")

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt.subplots(1, columns, figsize=(width, height))


def save(result: LabResult, fig, out_dir: Path) -> LabResult:
    """Write ``plot.png`` and ``table.md`` (atomically) and record them in ``result``."""
    from matplotlib import pyplot as plt

    out_dir = Path(out_dir)
    plot, table = out_dir / "plot.png", out_dir / "table.md"
    fig.tight_layout()
    atomic_write(plot, lambda file: fig.savefig(file, format="png", dpi=110))
    plt.close(fig)
    text = f"# {result.name}\n\n" + markdown_table(result.table) + "\n" + "\n".join(f"- {f}" for f in result.findings)
    atomic_write(table, lambda file: file.write((text + "\n").encode("utf-8")))
    result.files = [plot, table]
    return result
