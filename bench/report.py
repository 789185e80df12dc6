# Reporting: machine description, the printed table and the JSON results file.
import datetime
import json
import os
import pathlib
import platform

from harness import REPO, cores


def machine_info(libs):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return dict(
        cpu=cpu,
        cores=cores(),
        logical_cpus=os.cpu_count(),
        torch_threads=libs["torch"].get_num_threads(),
        platform=platform.platform(),
        python=platform.python_version(),
        torch=libs["torch"].__version__,
        tapegrad=getattr(libs["tapegrad"], "__version__", "?"),
        tapegrad_path=str(pathlib.Path(libs["tapegrad"].__file__).parent),
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        commit=_git_head(),
        load_average=_load_average(),
    )


def _load_average():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def _git_head():
    """The checked-out commit, read from .git without running git (None outside a checkout)."""
    git = REPO / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        if (git / ref).exists():
            return (git / ref).read_text().strip()
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        pass
    return None


def copy_row(bw):
    """The info row for the copy-bandwidth reference (it has no tapegrad/torch times)."""
    return dict(name="copy bandwidth: np.copyto (reference)", size="2^24", unit="us",
                tapegrad=None, torch=None, ratio=None, target=None, target_kind=None,
                bytes=bw["bytes"], tapegrad_gbps=None, torch_gbps=None, pct_copy=None,
                copy_x=None, copy_target=None, checks=[], passed=None,
                copy_gbps=bw["gbps"], extra=dict(copy_bandwidth=bw))


# ---------------------------------------------------------------------------
# Table

def _fmt_time(value, unit):
    if value is None or value != value:
        return "-"
    if unit == "MB":
        return f"{value:.1f} MB"
    return f"{value:.3f} us" if value < 100 else f"{value:.1f} us"


def _fmt_target(r):
    parts = []
    for c in r["checks"]:
        if c["kind"] == "ratio":
            parts.append(f"ratio <= {c['target']:g}")
        elif c["kind"] == "copy":
            parts.append(f"<= {c['target']:g}x copy")
        else:
            parts.append(f"<= {c['target']:g} {r['unit']}")
    return ", ".join(parts) or "-"


def _fmt_result(r):
    if r["passed"] is None:
        return "info"
    if r["passed"]:
        return "PASS"
    if len(r["checks"]) == 1:
        return "FAIL"
    return "FAIL " + "+".join(c["kind"] for c in r["checks"] if not c["passed"])


def _cells(r):
    gbps = r.get("copy_gbps") or r["tapegrad_gbps"]
    return (r["name"], r["size"], _fmt_time(r["tapegrad"], r["unit"]),
            _fmt_time(r["torch"], r["unit"]),
            "-" if r["ratio"] is None or r["ratio"] != r["ratio"] else f"{r['ratio']:.3f}",
            "" if gbps is None else f"{gbps:.1f}",
            "" if r["pct_copy"] is None else f"{r['pct_copy']:.0f}%",
            _fmt_target(r), _fmt_result(r))


def print_table(rows, copy_gbps=None):
    header = ("case", "size", "tapegrad", "torch", "ratio", "GB/s", "% copy", "target", "result")
    body = [_cells(r) for r in rows]
    widths = [max(len(str(line[i])) for line in [header] + body) for i in range(len(header))]
    right = {2, 3, 4, 5, 6}

    def fmt_line(cells):
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    print(fmt_line(header))
    print("  ".join("-" * w for w in widths))
    for line in body:
        print(fmt_line(line))
    if copy_gbps:
        print(f"\nGB/s: tapegrad's rate over the least bytes the case must move (reads + writes, "
              f"GB = 1e9 B).\n% copy: that rate over the np.copyto reference, {copy_gbps:.1f} "
              f"GB/s. '<= Nx copy': time <= N x the time\na copy of the same bytes takes, i.e. "
              f"% copy >= 100/N.")


# ---------------------------------------------------------------------------
# JSON

def write_json(path, info, opts, rows, copy_bandwidth):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = dict(machine=info, options=dict(quick=opts.quick, cases=opts.cases, rounds=opts.rounds,
                                          chain_ops=opts.chain_ops, chain_rounds=opts.chain_rounds),
               copy_bandwidth=copy_bandwidth, results=rows)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)
