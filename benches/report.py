"""Turns criterion's output into BENCHMARKS.md and an SVG of throughput vs workers.

Usage: python3 benches/report.py CRITERION_DIR OUT.md OUT.svg [COUNTS.tsv]

COUNTS.tsv, when given and present, holds "KIND/WORKERS<TAB>instructions" lines
from callgrind runs of benches/instructions.rs (see benches/report.sh).

Reads every <group>/<function>[/<param>]/new/{benchmark,estimates}.json under
CRITERION_DIR. A benchmark whose name starts with "stream_plus_" is ours; its
peer is the one other benchmark of the same group and parameter (or, where a
group has several, the one whose name ends in the same "_<number>"). The ratio
is ours / peer of the mean time: below 1.0, ours is faster.
"""

import datetime
import json
import math
import os
import platform
import subprocess
import sys

FAMILIES = [
    ("Concurrent map", ("ordered_", "unordered_", "slow_head_", "sweep_")),
    ("Keyed concurrency", ("keyed_",)),
    ("Stages", ("stall_", "boundary_")),
    ("Time", ("batch_", "space_", "debounce_", "throttle_", "sample_")),
    ("Fan-in and fan-out", ("merge_", "broadcast_", "balance_")),
    ("CPU stage (thread pool)", ("cpu_", "sleep_", "try_cpu_")),
    ("Failures (retrying maps)", ("retry_",)),
    ("Observing (the cost of an observe point; the peer is the same pipeline without)", ("observe_",)),
]
# Groups with several peers: the one each of ours is compared with (the others
# still appear under "other points").
PREFERRED_PEER = {
    "stall_": "futures_plain_chain",
    "keyed_2000": "hash_lanes_select_all",
    "retry_some_fail": "retry_futures_in_map_concurrent_unordered",
}
SKIP = ("warm_up",)
NO_PEER = {
    "debounce_10ms_fast_100k": "no like-for-like peer: futures-time's debounce waits out the window per item",
    "sample_10ms_fast_100k": "no like-for-like peer: futures-time's sample drops the last item at the end",
}


def load(root):
    benches = []
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            meta = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        mean = est["mean"]
        elements = (meta.get("throughput") or {}).get("Elements")
        benches.append(
            {
                "group": meta["group_id"],
                "function": meta["function_id"] or "",
                "param": meta["value_str"] or "",
                "mean": mean["point_estimate"],
                "low": mean["confidence_interval"]["lower_bound"],
                "high": mean["confidence_interval"]["upper_bound"],
                "elements": elements,
            }
        )
    return benches


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_rate(per_s):
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if per_s >= scale:
            return f"{per_s / scale:.3g} {unit}items/s"
    return f"{per_s:.0f} items/s"


def ours(b):
    return b["function"].startswith("stream_plus_")


def suffix_number(name):
    tail = name.rsplit("_", 1)[-1]
    return tail if tail.isdigit() else None


def peers_of(b, benches):
    """The peers `b` is compared with: the chosen one, and the futures-buffered
    crate's (`fb_*`) where a group has it beside futures-util's."""
    same = [
        p
        for p in benches
        if p["group"] == b["group"] and p["param"] == b["param"] and not ours(p)
    ]
    fb = [p for p in same if p["function"].startswith("fb_")]
    if fb and len(same) == 1 + len(fb):
        return [p for p in same if not p["function"].startswith("fb_")] + fb
    p = peer_of(b, benches)
    return [] if p is None else [p]


def peer_of(b, benches):
    same = [
        p
        for p in benches
        if p["group"] == b["group"] and p["param"] == b["param"] and not ours(p)
    ]
    if len(same) == 1:
        return same[0]
    for prefix, name in PREFERRED_PEER.items():
        if b["group"].startswith(prefix):
            chosen = [p for p in same if p["function"] == name]
            if len(chosen) == 1:
                return chosen[0]
    n = suffix_number(b["function"])
    matching = [p for p in same if n is not None and suffix_number(p["function"]) == n]
    return matching[0] if len(matching) == 1 else None


def family_of(group):
    for name, prefixes in FAMILIES:
        if group.startswith(prefixes):
            return name
    return "Other"


def group_order(group):
    """Families in FAMILIES order, and within one, groups in prefix order."""
    for i, (_, prefixes) in enumerate(FAMILIES):
        for j, prefix in enumerate(prefixes):
            if group.startswith(prefix):
                return (i, j, group)
    return (len(FAMILIES), 0, group)


def label(b):
    return f"{b['group']}" + (f" (w={b['param']})" if b["param"] else "")


def param_key(b):
    return int(b["param"]) if b["param"].isdigit() else 0


def machine():
    cpu = platform.processor() or platform.machine()
    mem = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    try:
        rustc = subprocess.run(["rustc", "-V"], capture_output=True, text=True).stdout.strip()
    except OSError:
        rustc = "rustc: unknown"
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs{mem}; "
        f"{platform.system()} {platform.release()}; {rustc}"
    )


def table(rows, benches):
    out = [
        "| benchmark | ours | ours time | peer | peer time | ours / peer |",
        "|---|---|---:|---|---:|---:|",
    ]
    for b in rows:
        peers = peers_of(b, benches)
        if not peers:
            note = NO_PEER.get(b["group"], "no peer in this group")
            out.append(
                f"| {label(b)} | `{b['function']}` | {fmt_time(b['mean'])} | {note} | | |"
            )
            continue
        for p in peers:
            ratio = b["mean"] / p["mean"]
            out.append(
                f"| {label(b)} | `{b['function']}` | {fmt_time(b['mean'])} "
                f"| `{p['function']}` | {fmt_time(p['mean'])} | **{ratio:.2f}** |"
            )
    return out


def others(rows_group, benches):
    """Benchmarks that are neither ours nor anyone's chosen peer (serial, rayon, ...)."""
    peers = {id(p) for b in benches if ours(b) for p in peers_of(b, benches)}
    return [b for b in rows_group if not ours(b) and id(b) not in peers]


def sweep_svg(benches):
    series = []
    styles = [
        ("sweep_latency_1ms_ordered", "stream_plus_map_concurrent", "#1b6ac9", ""),
        ("sweep_latency_1ms_ordered", "futures_buffered", "#1b6ac9", "6 4"),
        ("sweep_latency_1ms_unordered", "stream_plus_map_concurrent_unordered", "#d9480f", ""),
        ("sweep_latency_1ms_unordered", "futures_buffer_unordered", "#d9480f", "6 4"),
    ]
    for group, function, color, dash in styles:
        pts = sorted(
            (int(b["param"]), b["elements"] / (b["mean"] / 1e9))
            for b in benches
            if b["group"] == group and b["function"] == function and b["elements"]
        )
        if pts:
            series.append((function, color, dash, pts))
    if not series:
        return None
    width, height, left, right, top, bottom = 900, 460, 80, 330, 40, 60
    xs = [x for _, _, _, pts in series for x, _ in pts]
    ys = [y for _, _, _, pts in series for _, y in pts]
    x0, x1 = math.log2(min(xs)), math.log2(max(xs))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    pw, ph = width - left - right, height - top - bottom

    def px(x):
        return left + (math.log2(x) - x0) / max(x1 - x0, 1e-9) * pw

    def py(y):
        return top + ph - (math.log10(y) - y0) / max(y1 - y0, 1e-9) * ph

    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="24" font-size="15">Concurrent map: throughput vs workers '
        f"(each item waits 0.5-1.5 ms)</text>",
    ]
    for e in range(y0, y1 + 1):
        y = py(10**e)
        svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        svg.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{fmt_rate(10**e).replace("items/s", "")}</text>'
        )
    for x in sorted(set(xs)):
        svg.append(
            f'<line x1="{px(x):.1f}" y1="{top}" x2="{px(x):.1f}" y2="{top + ph}" stroke="#eee"/>'
        )
        svg.append(f'<text x="{px(x):.1f}" y="{top + ph + 18}" text-anchor="middle">{x}</text>')
    svg.append(
        f'<text x="{left + pw / 2}" y="{height - 14}" text-anchor="middle">workers (log scale)</text>'
    )
    svg.append(
        f'<text x="18" y="{top + ph / 2}" transform="rotate(-90 18 {top + ph / 2})" '
        f'text-anchor="middle">items/s (log scale)</text>'
    )
    svg.append(
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>'
    )
    for i, (name, color, dash, pts) in enumerate(series):
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        svg.append(
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash_attr}/>'
        )
        for x, y in pts:
            svg.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>')
        ly = top + 20 + i * 22
        lx = left + pw + 16
        svg.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 28}" y2="{ly}" stroke="{color}" '
            f'stroke-width="2"{dash_attr}/>'
        )
        svg.append(f'<text x="{lx + 34}" y="{ly + 4}" font-size="12">{name}</text>')
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def read_tsv(path):
    """`order/function/workers<TAB>count` lines, as {(order, function, workers): count}."""
    counts = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                name, _, n = line.strip().partition("\t")
                if n.isdigit():
                    order, function, workers = name.split("/")
                    counts[(order, function, int(workers))] = int(n)
    return counts


def instruction_table(path, alloc_path):
    """Ours against the peer in instructions (callgrind) and allocations per item."""
    counts = read_tsv(path)
    if not counts:
        return []
    allocs = read_tsv(alloc_path)
    items = 200_000  # N in benches/instructions.rs

    def instructions(n):
        per = n / items
        return f"{per:.1f}" if per < 100 else f"{per:.0f}"

    def per_item(key):
        return f"{allocs[key] / items:.3g}" if key in allocs else "?"

    out = [
        "### Instruction counts",
        "",
        "Wall time on this machine moves by 10-40 % between runs, so the same workloads",
        "are also counted in instructions (`valgrind --tool=callgrind`, one run of",
        f"{items // 1000}k futures through `fold` on `block_on`, whole program; the",
        "same on every run): futures ready on their first poll, and (`*_self_waking`)",
        "futures that return `Pending` 0-2 times, waking themselves. Allocations per",
        "item are counted by a global allocator in the same binary. Per item:",
        "",
        "| workload | workers | ours | instructions / item | allocations / item | peer | instructions / item | allocations / item | ours / peer (instructions) |",
        "|---|---:|---|---:|---:|---|---:|---:|---:|",
    ]
    for (order, function, workers), n in sorted(counts.items()):
        if not function.startswith("stream_plus_"):
            continue
        peer = [
            (f, m)
            for (o, f, w), m in counts.items()
            if o == order and w == workers and not f.startswith("stream_plus_")
        ]
        # futures-util's peer first, then the futures-buffered crate's.
        for pf, pm in sorted(peer, key=lambda p: p[0].startswith("fb_")):
            out.append(
                f"| {order} | {workers} | `{function}` | {instructions(n)} "
                f"| {per_item((order, function, workers))} | `{pf}` | {instructions(pm)} "
                f"| {per_item((order, pf, workers))} | **{n / pm:.2f}** |"
            )
    return out + [""]


def main():
    root, out_md, out_svg = sys.argv[1:4]
    counts = sys.argv[4] if len(sys.argv) > 4 else None
    alloc_counts = sys.argv[5] if len(sys.argv) > 5 else None
    benches = [b for b in load(root) if not b["group"].startswith(SKIP)]
    if not benches:
        sys.exit(f"no criterion results under {root}: run the benches first")
    benches.sort(key=lambda b: (group_order(b["group"]), param_key(b), b["function"]))

    md = [
        "# Benchmarks",
        "",
        "Written by `benches/report.sh` from one `cargo bench` run; do not edit by hand.",
        "",
        f"- Machine: {machine()}",
        f"- Date: {datetime.date.today().isoformat()}",
        "- Each row is ours and its peer, measured in the same criterion group of the same",
        "  process. Times are criterion's mean; **ours / peer** below 1.00 means ours is faster.",
        "- On a small shared VM the same benchmark moves by 10-40 % between runs; read a",
        "  ratio within 0.9-1.1 as a tie.",
        "",
    ]
    svg = sweep_svg(benches)
    if svg:
        with open(out_svg, "w") as f:
            f.write(svg)
        rel = os.path.relpath(out_svg, os.path.dirname(os.path.abspath(out_md)) or ".")
        md += [
            f"![throughput vs workers]({rel})",
            "",
            "Throughput of the four concurrent maps against the number of workers when each",
            "item waits 0.5-1.5 ms on a timer (groups `sweep_latency_1ms_*`, 40 items per",
            "worker). Where lines coincide, the operators tie; `futures_buffered` falls",
            "behind as workers grow because a slow item at the head of its window holds",
            "back the free slots, while `map_concurrent` keeps refilling them.",
            "",
        ]

    for family, _ in FAMILIES + [("Other", ())]:
        groups = [b for b in benches if family_of(b["group"]) == family]
        if not groups:
            continue
        md += [f"## {family}", ""]
        md += table([b for b in groups if ours(b)], benches)
        if family == FAMILIES[0][0]:
            md += [""] + instruction_table(counts, alloc_counts)
        rest = others(groups, benches)
        if rest:
            md += ["", "Reference points in the same groups:", ""]
            md += [
                f"- {label(b)}: `{b['function']}` {fmt_time(b['mean'])}"
                + (
                    f" ({fmt_rate(b['elements'] / (b['mean'] / 1e9))})"
                    if b["elements"]
                    else ""
                )
                for b in rest
            ]
        md.append("")

    with open(out_md, "w") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
