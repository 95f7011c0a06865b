"""A small Layer stack the stack's tests open: conv (the article's outline kernel by hand, and Sobel x) → ReLU →
max pool, on the RGB photo resized to ``side``²."""

from __future__ import annotations

OUTLINE = [[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]]


def outline_sobel_stack(side: int) -> dict:
    """The stack as a spec dict (filter 0 by hand, so its weights have sliders)."""
    return {
        "version": 1,
        "input": {"color": "rgb", "size": [side, side]},
        "layers": [
            {
                "type": "conv2d",
                "filters": [OUTLINE, "sobel_x"],
                "stride": 1,
                "padding": "same",
                "dilation": 1,
                "bias": 0,
            },  # fmt: skip
            {"type": "activation", "function": "relu"},
            {"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "same"},
        ],
    }
