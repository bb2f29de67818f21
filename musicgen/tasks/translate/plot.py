"""Attention pictures: which source pieces each output piece looked at."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from musicgen.extras import need
from musicgen.files import atomic_write

if TYPE_CHECKING:
    from musicgen.tasks.translate.translator import Translation


def plot_attention(translation: Translation, path: Path | str, title: str | None = None) -> Path:
    """Draw a translation's attention as a heat map (PNG), target pieces down, source across.

    Args:
        translation: a :class:`~musicgen.tasks.translate.translator.Translation`.
        path: the image to write (atomically).

    Raises:
        ValueError: the translation has no words to draw.
    """
    matplotlib = need("matplotlib")

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    weights = translation.attention.detach().float().numpy()
    if weights.size == 0:
        raise ValueError("an empty translation has no attention to draw")
    width = max(4.0, 0.5 * len(translation.source_pieces) + 2)
    height = max(3.0, 0.4 * len(translation.target_pieces) + 1.5)
    figure, axes = plt.subplots(figsize=(width, height))
    image = axes.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(len(translation.source_pieces)), translation.source_pieces, rotation=60, ha="right")
    axes.set_yticks(range(len(translation.target_pieces)), translation.target_pieces)
    axes.set_xlabel("source")
    axes.set_ylabel("translation")
    axes.set_title(title or translation.text, fontsize=9)
    figure.colorbar(image, ax=axes, fraction=0.04)
    figure.tight_layout()
    path = Path(path)
    atomic_write(path, lambda file: figure.savefig(file, format="png", dpi=110))
    plt.close(figure)
    return path
