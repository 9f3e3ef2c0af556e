"""RGB frames of a swarm: every particle an arrow in the box, coloured by heading (3D: seen from above)."""

from __future__ import annotations

import numpy as np


def render_frame(model, size_inches: float = 4.0, dpi: int = 100) -> np.ndarray:
    """One frame [H, W, 3] uint8 of a VicsekModel's particles, its order parameter in the title."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size_inches, size_inches), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    pos, heading = model.positions, model.headings
    colour = (np.arctan2(heading[:, 1], heading[:, 0]) + np.pi) / (2 * np.pi)
    ax.quiver(pos[:, 0], pos[:, 1], heading[:, 0], heading[:, 1], colour, cmap="hsv", clim=(0, 1),
              angles="xy", pivot="middle", width=0.006)  # fmt: skip
    ax.set_xlim(0, model.box_size)
    ax.set_ylim(0, model.box_size)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"N = {model.n}, order parameter {model.order_parameter():.2f}", fontsize=9)
    fig.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
