"""The benchmark's figures as a summary against the targets and as Markdown."""

import statistics

SETTING_TITLES = {
    "call": "Default settings: per-call dispatch, switch, wasi RNG",
    "instance": "--granularity=instance (switch, wasi RNG)",
}

# Two tables per setting: what the multivariant binary costs, and what it buys.
COLUMNS = ["workload", "warm overhead", "cold overhead", "Liftoff compile",
           "TurboFan compile", "code section", "dispatch share", "size growth", "pipeline s",
           "peak MiB"]
DIVERSITY_COLUMNS = ["workload", "variants", "distinct in wasm", "coverage", "log10 paths",
                     "unique-trace ratio", "trace entropy", "choice entropy",
                     "choices per run", "fresh choices per run", "plans"]

# The measures summarized over the workloads: (title, source, key, worst is the highest,
# format). Overheads and sizes are worst at their highest, diversity at its lowest.
MEASURES = [
    ("warm overhead", "settings", "overhead", True, ".2f", "x"),
    ("cold overhead", "settings", "cold_overhead", True, ".2f", "x"),
    ("Liftoff compile time", "settings", "compile_liftoff", True, ".2f", "x"),
    ("TurboFan compile time", "settings", "compile_turbofan", True, ".2f", "x"),
    ("code section size", "settings", "code_section_ratio", True, ".2f", "x"),
    ("dispatch share of code", "settings", "dispatch_share", True, ".3f", ""),
    ("wasm size", "settings", "size_growth", True, ".2f", "x"),
    ("unique-trace ratio", "traces", "unique_trace_ratio", False, ".2f", ""),
    ("trace entropy", "traces", "normalized_entropy", False, ".3f", ""),
    ("choice entropy", "traces", "choice_entropy", False, ".3f", ""),
    ("choices per run", "traces", "choices_per_run", False, ".3g", ""),
    ("fresh choices per run", "traces", "fresh_per_run", False, ".3g", ""),
]


def _setting(w, setting):
    return (w.get("settings") or {}).get(setting) or {}


def _trace(w, setting):
    return (w.get("traces") or {}).get(setting) or {}


def _measured(doc, setting, key, source=_setting):
    """[(workload name, value)] for the workloads that have the value."""
    out = []
    for w in doc["workloads"]:
        value = source(w, setting).get(key)
        if value is not None:
            out.append((w["name"], value))
    return out


def _check(name, goal, value, met, where="", unit=""):
    return {"target": name, "goal": goal, "value": value, "met": met, "where": where,
            "unit": unit}


def overhead_summary(doc, setting):
    """Median and worst overhead over the workloads of one setting."""
    values = _measured(doc, setting, "overhead")
    if not values:
        return None
    worst = max(values, key=lambda nv: nv[1])
    return {"median": statistics.median(v for _, v in values), "worst": worst[1],
            "worst_workload": worst[0], "workloads": len(values)}


def _min_check(doc, setting, key, goal, label):
    values = _measured(doc, setting, key, source=_trace)
    if not values:
        return _check(label, f">= {goal}", None, False, "not measured")
    low = min(values, key=lambda nv: nv[1])
    return _check(label, f">= {goal} on every workload", low[1], low[1] >= goal,
                  f"lowest: {low[0]}")


def target_checks(doc, setting):
    """Every target of DESIGN's benchmark brief, evaluated on one setting."""
    t = doc["meta"]["targets"]
    checks = []
    o = overhead_summary(doc, setting)
    if o:
        checks.append(_check("median overhead", f"<= {t['overhead_median']}x", o["median"],
                             o["median"] <= t["overhead_median"],
                             f"over {o['workloads']} workloads", "x"))
        checks.append(_check("worst overhead", f"<= {t['overhead_worst']}x", o["worst"],
                             o["worst"] <= t["overhead_worst"], o["worst_workload"], "x"))
    else:
        checks.append(_check("overhead", "measured", None, False, "not measured"))
    checks.append(_min_check(doc, setting, "unique_trace_ratio", t["unique_trace_ratio"],
                             "unique-trace ratio"))
    checks.append(_min_check(doc, setting, "normalized_entropy", t["entropy"], "entropy"))
    for name, seconds in _measured(doc, setting, "pipeline_s"):
        if name.startswith("secp256k1"):
            checks.append(_check("secp256k1 pipeline", f"< {t['secp256k1_pipeline_s']} s",
                                 seconds, seconds < t["secp256k1_pipeline_s"], name, " s"))
    return checks


def summary(doc):
    """{setting: {"overhead": ..., "targets": [...]}}; the targets are stated for the
    default settings, and shown for the other setting for comparison."""
    out = {}
    for setting in SETTING_TITLES:
        out[setting] = {"overhead": overhead_summary(doc, setting),
                        "measures": measure_summary(doc, setting),
                        "targets": target_checks(doc, setting)}
    out["all_targets_met_at_default"] = all(c["met"] for c in out["call"]["targets"])
    return out


# ---------------------------------------------------------------- cells


def _num(value, fmt):
    return "–" if value is None else format(value, fmt)


fmt = _num  # for run.py's progress lines


def _ratio_of(part, whole, ratio):
    if part is None or whole is None:
        return "–"
    return f"{part}/{whole} ({_num(ratio, '.2f')})"


def _times(value):
    return _num(value, ".2f") + ("x" if value is not None else "")


def _error_row(w, columns):
    return [w["name"], f"error: {w['error'].splitlines()[0][:80]}"] + [""] * (len(columns) - 2)


def _row(w, setting):
    s = _setting(w, setting)
    if "error" in w and not s:
        return _error_row(w, COLUMNS)
    return [
        w["name"],
        _times(s.get("overhead")),
        _times(s.get("cold_overhead")),
        _times(s.get("compile_liftoff")),
        _times(s.get("compile_turbofan")),
        _times(s.get("code_section_ratio")),
        _num(s.get("dispatch_share"), ".3f"),
        _times(s.get("size_growth")),
        _num(s.get("pipeline_s"), ".1f"),
        _num(s.get("peak_mib"), ".0f"),
    ]


def _diversity_row(w, setting):
    s, tr = _setting(w, setting), _trace(w, setting)
    if "error" in w and not s:
        return _error_row(w, DIVERSITY_COLUMNS)
    return [
        w["name"],
        _num(s.get("variants"), "d"),
        _ratio_of(s.get("distinct_in_wasm"), s.get("variants"), s.get("preservation")),
        _ratio_of(s.get("diversified"), s.get("eligible"), s.get("coverage")),
        _num(s.get("log10_static_paths"), ".1f"),
        _num(tr.get("unique_trace_ratio"), ".2f"),
        _num(tr.get("normalized_entropy"), ".3f"),
        _num(tr.get("choice_entropy"), ".3f"),
        _num(tr.get("choices_per_run"), ".3g"),
        _num(tr.get("fresh_per_run"), ".3g"),
        _plans(s.get("plans")),
    ]


def _plans(plans):
    """The dispatchers per re-randomization plan, as the report counts them (libraries
    that do not plan report none)."""
    if not plans:
        return "–"
    return ", ".join(f"{k} {v}" for k, v in plans.items() if v) or "–"


def _table(doc, setting, columns, row):
    lines = ["| " + " | ".join(columns) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(columns) - 1)) + "|"]
    for w in doc["workloads"]:
        lines.append("| " + " | ".join(row(w, setting)) + " |")
    return "\n".join(lines)


def table(doc, setting):
    """What the multivariant binaries of one setting cost."""
    return _table(doc, setting, COLUMNS, _row)


def diversity_table(doc, setting):
    """What they buy: variants, paths and the diversity of real runs."""
    return _table(doc, setting, DIVERSITY_COLUMNS, _diversity_row)


def measure_summary(doc, setting):
    """[{measure, median, worst, worst_workload, workloads}] over the workloads measured:
    the median alone would hide the one workload that a deployment trips on."""
    out = []
    for title, source, key, high_is_worse, _, _ in MEASURES:
        values = _measured(doc, setting, key, _setting if source == "settings" else _trace)
        if not values:
            out.append({"measure": title, "median": None, "worst": None,
                        "worst_workload": None, "workloads": 0})
            continue
        pick = max if high_is_worse else min
        worst = pick(values, key=lambda nv: nv[1])
        out.append({"measure": title, "median": statistics.median(v for _, v in values),
                    "worst": worst[1], "worst_workload": worst[0], "workloads": len(values)})
    return out


def summary_table(doc, setting):
    lines = ["| measure | median | worst | worst workload | workloads |",
             "|---|---:|---:|---|---:|"]
    formats = {m[0]: (m[4], m[5]) for m in MEASURES}
    for m in doc["summary"][setting].get("measures") or measure_summary(doc, setting):
        fmt, unit = formats[m["measure"]]
        lines.append(f"| {m['measure']} | {_num(m['median'], fmt)}{unit if m['median'] is not None else ''}"
                     f" | {_num(m['worst'], fmt)}{unit if m['worst'] is not None else ''}"
                     f" | {m['worst_workload'] or '–'} | {m['workloads']} |")
    return "\n".join(lines)


def _fmt_value(value, unit):
    if value is None:
        return "not measured"
    return f"{value:.2f}{unit}"


def summary_line(doc, setting):
    checks = doc["summary"][setting]["targets"]
    parts = []
    for c in checks:
        verdict = "met" if c["met"] else "**MISSED**"
        where = f", {c['where']}" if c["where"] else ""
        parts.append(f"{c['target']} {_fmt_value(c['value'], c.get('unit', ''))} (target {c['goal']}{where}): "
                     f"{verdict}")
    return "; ".join(parts) + "."


def _load(values):
    return "/".join(f"{v:.1f}" for v in values)


def _rebuilt_warning(m):
    start, end = m.get("mewe_fingerprint_start"), m.get("mewe_fingerprint_end")
    if start and end and start != end:
        return ["**Warning: mewe or libmewe was rebuilt while the benchmark ran; binaries "
                "built before and after are compared. Run it again.**"]
    return []


def _meta_lines(doc):
    m = doc["meta"]
    mode = "quick" if m["quick"] else "full"
    return [
        f"Measured {m['date']} on {m['host']}, {m['cpus']} CPUs, in {m['seconds']:.0f} s "
        f"({mode} run: {m['repeats']} warm repeats after {m['warmup']} warm-up"
        f"{' timed by CPU time' if m.get('warm_clock') == 'cpu' else ''}, "
        f"{m.get('cold_repeats', '–')} cold runs and {m.get('compile_repeats', '–')} "
        f"compilations per tier and module, {m['trace_runs']} traced runs, choices counted "
        f"over {m.get('choice_runs', '–')}).",
        f"Tools: {m['mewe']} at {m.get('revision', 'unknown')}; {m['clang']}; node {m['node']}"
        f"{' ' + ' '.join(m['v8_flags']) if m['v8_flags'] else ' (default V8 tiering)'}"
        f"{'; WASI runs with ' + ' '.join(m['node_wasi_flags']) if m.get('node_wasi_flags') else ''}"
        ".",
        "Load average (1, 5, 15 min) at start " + _load(m["load_average_start"]) + ", at end "
        + _load(m["load_average_end"]) + f" ({m['cpus']} CPUs: above that, something else "
        "ran alongside and the timings are noisier).",
        *_rebuilt_warning(m),
        f"Baseline: {m['baseline']}. Every figure is a ratio of the multivariant binary's "
        "to the original's, measured side by side in the same run.",
    ]


def _policy_line(doc, setting):
    """The dispatch settings the binaries report (kind, granularity, RNG and any policy
    field the library adds), as one line; the workloads normally agree."""
    seen = []
    for w in doc["workloads"]:
        policy = _setting(w, setting).get("policy")
        if policy and policy not in seen:
            seen.append(policy)
    if not seen:
        return "Dispatch settings: not reported."
    return "Dispatch settings from the reports: " + "; ".join(
        ", ".join(f"{k} {v}" for k, v in p.items()) for p in seen) + "."


def _notes(doc):
    return [
        "Cost: *warm overhead* is the median run time (instantiation + _start) of the "
        "multivariant binary over the original's, alternating in one node process with "
        "the module compiled once and V8's tiering warmed up; *cold overhead* the same "
        "with a new node process per run (start, compile, run), so compilation counts on "
        "both sides; *Liftoff* and *TurboFan compile* are V8's compile time of the whole "
        "module by each tier alone; *code section* is the bytes of function bodies, *size "
        "growth* of the whole file. Diversity: *trace entropy* is the normalized entropy "
        "of the traces over the traced runs (MEWE's measure), *choice entropy* that of "
        "each dispatcher's choices normalized by log2 of its variants, weighted by its "
        "choices, and *choices per run* the choice points one traced run passes: every "
        "call of a dispatcher, which the trace records whether the plan draws a fresh "
        "variant there or keeps the one drawn before (median over the runs counted); *fresh "
        "choices per run* the fewest, over those runs, of the calls whose variant differs "
        "from the previous call's of the same function (or is its first): a lower bound "
        "of the fresh draws, since a draw that picks the same variant again is not seen; "
        "*plans* counts the dispatchers by the re-randomization plan "
        "the library chose (per call, every N calls, per invocation, per instance), when "
        "its report says. *Worst* is the highest figure for a cost and the lowest for "
        "diversity.",
        "",
        "Columns: *variants* are the function bodies the dispatchers choose among, the "
        "originals included; *distinct in wasm* is how many of them stayed distinct in the "
        "emitted wasm (preservation); *coverage* is diversified over eligible functions; "
        "*log10 paths* is log10 of the product of the dispatchers' variant counts; *size "
        "growth* is the multivariant wasm's bytes over the original's; *pipeline s* and "
        "*peak MiB* are mewe's whole run (generate, link, emit, wasm-ld), from wait4. "
        "Trace columns come from separately built `--trace` binaries of the same setting, "
        "run on the trace input below, every run checked against the original's output.",
        "",
        "Trace inputs: " + "; ".join(
            f"{w['name']}: `{' '.join(w.get('trace_args') or []) or '(no arguments)'}` "
            f"({w.get('trace_input', '')})" for w in doc["workloads"]) + ".",
    ]


def _diagnose_section(doc):
    rows = [w for w in doc["workloads"] if w.get("diagnose")]
    if not rows:
        return []
    labels = list(rows[0]["diagnose"]["ratios"])[1:]
    lines = ["## Where the time goes (--diagnose)", "",
             "Median run time over the original for binaries that split the overhead: "
             "*emit-only* is libmewe's code generation without diversification "
             "(`--stage=emit`); *swap* alone is free at run time, so *swap/call* is the "
             "cost of dispatch (choosing, then calling a variant that is not inlined) and "
             "*swap/instance* that of dispatch without a fresh choice; *subst/call* and "
             "*blocks/call* over *swap/call* are each diversifier's own cost; *call, hot "
             "denied* is default settings with the most-called functions left "
             "undiversified (listed in the last column).", "",
             "| workload | " + " | ".join(labels) + " | most-called (share of dispatches) |",
             "|---|" + "---:|" * len(labels) + "---|"]
    for w in rows:
        d = w["diagnose"]
        hot = ", ".join(f"{h['name']} ({h['share']:.0%})" for h in d["hot"][:3])
        lines.append(f"| {w['name']} | " + " | ".join(
            f"{d['ratios'].get(k, 0):.2f}x" for k in labels) + f" | {hot} |")
    return lines + [""]


def markdown(doc):
    out = ["# libmewe benchmark", ""] + _meta_lines(doc) + [""]
    for setting, title in SETTING_TITLES.items():
        out += [f"## {title}", "", _policy_line(doc, setting), "",
                "Median and worst over the workloads:", "", summary_table(doc, setting), "",
                "Cost (multivariant over original):", "", table(doc, setting), "",
                "Diversity:", "", diversity_table(doc, setting), "",
                ("Targets: " if setting == "call" else "Against the same targets: ")
                + summary_line(doc, setting), ""]
    out += _diagnose_section(doc)
    errors = [(w["name"], e) for w in doc["workloads"]
              for e in ([w["error"]] if w.get("error") else []) + w.get("problems", [])]
    if errors:
        out += ["## Errors", ""] + [f"- {name}: {e[:500]}" for name, e in errors] + [""]
    out += _notes(doc) + [""]
    return "\n".join(out)
