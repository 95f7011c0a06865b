"""PNG plots of how cost grows (matplotlib, Agg backend): one file per question."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _band(ax, xs, series, label, **kw):
    """Median line with a min–max band."""
    med = [float(np.median(v)) for v in series]
    lo = [float(np.min(v)) for v in series]
    hi = [float(np.max(v)) for v in series]
    (line,) = ax.plot(xs, med, marker="o", label=label, **kw)
    ax.fill_between(xs, lo, hi, alpha=0.2, color=line.get_color())


def write_all(details: dict, out: Path) -> list[Path]:
    """Every plot the available sections allow; returns the files written."""
    plt = _plt()
    written: list[Path] = []
    scaling, server, core = details.get("scaling"), details.get("server"), details.get("core")

    if scaling and scaling.get("pixels"):
        sides = sorted(int(s) for s in scaling["pixels"])
        px = [s * s / 1e6 for s in sides]
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for impl in scaling["pixels"][sides[0]]:
            _band(ax, px, [scaling["pixels"][s][impl] for s in sides], impl)
        for page, by in ((server or {}).get("change_ms_by_side") or {}).items():
            ss = sorted(int(s) for s in by)
            label = f"{page.split(' (')[0]} change rerun (AppTest)"
            _band(ax, [s * s / 1e6 for s in ss], [by[s] if s in by else by[str(s)] for s in ss], label, linestyle="--")
        if server:
            ax.axhline(1000, color="grey", linewidth=0.8, linestyle=":")
            ax.text(px[0], 1100, "1 s per change", color="grey", fontsize=8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("megapixels (pipeline: one channel; layer stack: RGB, 8 filters)")
        ax.set_ylabel("ms per run (median, min–max band)")
        ax.set_title("conv 3×3 → ReLU → 2×2 max pool: time vs pixels")
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        written.append(_save(fig, out / "scaling_pixels.png", plt))

    for key, xlabel, title in (
        ("filters", "filters in the conv layer", "time vs filters (RGB {side}², conv → ReLU → pool)"),
        ("layers", "conv (8 filters) → ReLU blocks", "time vs layers (RGB {side}²)"),
    ):
        if scaling and scaling.get(key):
            xs = sorted(int(n) for n in scaling[key])
            fig, ax = plt.subplots(figsize=(7, 4.5))
            _band(ax, xs, [scaling[key][n] for n in xs], "run_pipeline")
            side = scaling.get("setup", {}).get(f"{key}_side", "?")
            ax.set_xlabel(xlabel)
            ax.set_ylabel("ms per run (median, min–max band)")
            ax.set_title(title.format(side=side))
            ax.set_ylim(bottom=0)
            ax.grid(True, alpha=0.3)
            written.append(_save(fig, out / f"scaling_{key}.png", plt))

    if core and core.get("cases"):
        cases = list(core["cases"])
        impls = list(core["cases"][cases[0]]["seconds"])
        fig, ax = plt.subplots(figsize=(8, 4.5))
        width = 0.8 / len(impls)
        for j, impl in enumerate(impls):
            vals = [np.asarray(core["cases"][c]["seconds"][impl]) * 1000 for c in cases]
            med = [float(np.median(v)) for v in vals]
            err = [[m - float(v.min()) for m, v in zip(med, vals)], [float(v.max()) - m for m, v in zip(med, vals)]]
            ax.bar(np.arange(len(cases)) + j * width, med, width, yerr=err, label=impl, capsize=3)
        ax.set_xticks(np.arange(len(cases)) + width * (len(impls) - 1) / 2, cases, fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("ms (median, min–max)")
        ax.set_title("The same layer three ways")
        ax.legend(fontsize=8)
        ax.grid(True, axis="y", which="both", alpha=0.3)
        written.append(_save(fig, out / "core_compare.png", plt))
    return written


def _save(fig, path: Path, plt) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
