"""The pictures: PNG plots of the side-by-side figures, written beside the table (matplotlib, from PyPI).

Each plot is drawn from what its section kept with `Results.keep` (common.py); a section that did not run (or
kept nothing) leaves its plot out, and `write` says so.
"""

from __future__ import annotations

import os

CYCLE_AIM = 1.10  # × curl (section 1)
CPU_AIM = 0.5  # × the exporter's CPU per probe (section 1)
TOKENS_AIM = 3000  # prompt tokens per round (section 4)


def _probe(plt, data: dict):
    ns = sorted(int(n) for n in data)
    rows = [data[str(n)] for n in ns]

    def line(ax, key, label, style, scale):
        pts = [(n, r[key] * scale) for n, r in zip(ns, rows) if key in r and r[key] == r[key]]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=label, linewidth=2, markersize=6)

    fig, (wall, cpu) = plt.subplots(1, 2, figsize=(12, 4.6))
    line(wall, "run_wall_s", "Zumik: cycle in a running monitor", "o-", 1e3)
    line(wall, "check_wall_s", "Zumik: one-shot check process", "o:", 1e3)
    line(wall, "curl_wall_s", "curl --parallel (process)", "s-", 1e3)
    line(wall, "bb_wall_s", "blackbox_exporter (daemon)", "^-", 1e3)
    aim = [(n, r["curl_wall_s"] * CYCLE_AIM * 1e3) for n, r in zip(ns, rows) if n >= 100 and "curl_wall_s" in r]
    if aim:
        wall.plot([a[0] for a in aim], [a[1] for a in aim], "--", color="grey", label=f"aim: {CYCLE_AIM:.2f}× curl")
    wall.set(xscale="log", yscale="log", xlabel="targets per cycle (N)", ylabel="cycle wall time (ms)",
             title="Cycle time as N grows (lower is better)")
    line(cpu, "run_cpu_per_probe_s", "Zumik: running monitor", "o-", 1e6)
    line(cpu, "check_cpu_per_probe_s", "Zumik: one-shot check (whole process)", "o:", 1e6)
    line(cpu, "curl_cpu_per_probe_s", "curl (whole process)", "s-", 1e6)
    line(cpu, "bb_cpu_per_probe_s", "blackbox_exporter (exporter only)", "^-", 1e6)
    aim = [(n, r["bb_cpu_per_probe_s"] * CPU_AIM * 1e6) for n, r in zip(ns, rows)
           if r.get("bb_cpu_per_probe_s", float("nan")) == r.get("bb_cpu_per_probe_s")]
    if aim:
        cpu.plot([a[0] for a in aim], [a[1] for a in aim], "--", color="grey", label=f"aim: {CPU_AIM}× blackbox")
    cpu.set(xscale="log", yscale="log", xlabel="targets per cycle (N)", ylabel="CPU per probe (µs)",
            title="CPU per probe as N grows (lower is better)")
    for ax in (wall, cpu):
        ax.set_xticks(ns, [f"{n:,}" for n in ns])
        ax.minorticks_off()
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def _dispatch(plt, data: dict):
    import matplotlib.ticker as ticker

    panels = [c for c in ("c=1", "c=8") if any(k.endswith(c) for k in data)]
    if not panels:
        raise ValueError("no dispatch latencies kept")
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.6), squeeze=False)
    for ax, c in zip(axes[0], panels):
        curves = [(k, v) for k, v in data.items() if k.endswith(c)]
        if c == "c=1" and "spawn floor" in data:
            curves.append(("spawn floor (C posix_spawn + waitpid, one at a time)", data["spawn floor"]))
        for label, q in curves:
            ax.plot([v / 1000 for _, v in q], [p for p, _ in q], "-", label=label, linewidth=2)
        ax.set(xscale="log", xlabel="latency (ms, log scale)", ylabel="percentile",
               title=f"run /bin/true over HTTP, concurrency {c[2:]}: latency distribution")
        ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1, 2, 5)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_ylim(0, 100)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    return fig


def _tokens(plt, data: dict):
    rounds = data.get("per round")
    if not rounds:
        raise ValueError("no rounds kept")
    fig, ax = plt.subplots(figsize=(6, 4.2))
    xs = list(range(1, len(rounds) + 1))
    bars = ax.bar(xs, rounds, color=["tab:blue" if r <= TOKENS_AIM else "tab:red" for r in rounds])
    ax.bar_label(bars, labels=[f"{r:,}" for r in rounds])
    ax.axhline(TOKENS_AIM, linestyle="--", color="grey", label=f"aim: ≤ {TOKENS_AIM:,} per round")
    ax.set(xlabel="remediation round", ylabel="prompt tokens (o200k_base)", title="Prompt tokens per round")
    ax.set_xticks(xs)
    ax.set_ylim(0, max(max(rounds), TOKENS_AIM) * 1.15)
    ax.legend(fontsize=8)
    return fig


def _detection(plt, data: dict, bound_s: float | None = None):
    labels = list(data)
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.8 * len(labels)))
    for i, label in enumerate(labels):
        xs = data[label]
        ax.plot(xs, [i] * len(xs), "o", alpha=0.7)
    ax.set_yticks(range(len(labels)), [_wrap(label) for label in labels], fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    if bound_s:
        ax.axvline(bound_s, linestyle="--", color="grey")
        ax.annotate(f"aim {bound_s:.0f} s: interval + confirmation + own timeout", (bound_s, -0.45), fontsize=8,
                    ha="right", va="top", color="grey", xytext=(-4, 0), textcoords="offset points")
    ax.set(xlabel="stop → down alert in the outbox (s)", title="Detection time, one dot per trial")
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int = 42) -> str:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    return "\n".join(lines + [cur])


# (key kept by the section, file name, what it shows, section that keeps it, how to draw it)
PLOTS = [
    ("probe", "probe-scaling.png", "cycle time and CPU per probe vs curl and blackbox_exporter as N grows", "1",
     _probe),
    ("dispatch", "dispatch-latency.png", "dispatch latency distributions vs webhook and the spawn floor", "2",
     _dispatch),
    ("detection", "detection.png", "detection time per trial, every set-up", "3", _detection),
    ("tokens", "tokens-per-round.png", "prompt tokens per remediation round", "4", _tokens),
]


def write(series: dict, out_dir: str | None, prefix: str = "", detection_bound_s: float | None = None) -> list[str]:
    """Draws every plot whose data was kept into out_dir/<prefix><file>; returns one markdown line per plot
    saying which file it is or why it was left out."""
    if out_dir is None:
        return ["no plots: the table is not written to a file (--out)"]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ["no plots: matplotlib missing (python3 -m pip install matplotlib; scripts/bench.sh installs it)"]
    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10})
    out = []
    for key, name, what, section, draw in PLOTS:
        data = series.get(key)
        if not data:
            out.append(f"{what}: left out, section {section} did not run or kept no figures")
            continue
        try:
            fig = draw(plt, data, detection_bound_s) if key == "detection" else draw(plt, data)
            if key != "detection":
                fig.tight_layout()
            fig.savefig(os.path.join(out_dir, prefix + name), dpi=100, metadata={"Software": None})
            plt.close(fig)
            out.append(f"{what}: [{prefix + name}]({prefix + name})")
        except (ValueError, KeyError, TypeError, OSError) as e:
            out.append(f"{what}: left out, {type(e).__name__}: {e}")
    return out
