#!/usr/bin/env python3
"""Self-check of the benchmark (standard library unittest): it is a benchmark, not a test,
so it must print its figures and exit 0 when a target is missed; its peak-memory figure
must be the one child's, and its Markdown and SVG must be well formed.

    python3 bench/test_run.py        (meson test --suite bench)

The end-to-end check measures the smallest workload (base64-bench: no npm package, no
network) with one timed repeat and three traced runs, against targets no binary can meet.
It needs mewe ($MEWE or build/tools/mewe), clang-19 ($CLANG) and node ($NODE); it is
skipped when one is missing.
"""

import copy
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE))
import chart  # noqa: E402
import measure  # noqa: E402
import render  # noqa: E402
import run  # noqa: E402

MEWE = os.environ.get("MEWE") or str(REPO / "build" / "tools" / "mewe")
CLANG = os.environ.get("CLANG", "clang-19")
NODE = os.environ.get("NODE", "node")


def _setting(overhead, pipeline_s=1.0, cold=1.2):
    return {"overhead": overhead, "cold_overhead": cold, "compile_liftoff": 3.0,
            "compile_turbofan": 4.0, "code_section_ratio": 2.5, "pipeline_s": pipeline_s,
            "peak_mib": 80.0, "variants": 8, "distinct_in_wasm": 7, "preservation": 0.875,
            "diversified": 2, "eligible": 3, "coverage": 0.667, "log10_static_paths": 1.2,
            "size_growth": 1.3, "dispatchers": 2,
            "policy": {"dispatch": "switch", "granularity": "call", "rng": "wasi"},
            "plans": {"call": 1, "every": 1, "instance": 0}}


def _trace(unique, entropy, choice_entropy=0.99, choices=1000):
    return {"unique_trace_ratio": unique, "normalized_entropy": entropy, "runs": 100,
            "choice_entropy": choice_entropy, "choices_per_run": choices,
            "fresh_per_run": choices // 10}


SYNTHETIC = {
    "meta": {"date": "2026-01-01T00:00:00+00:00", "host": "test", "cpus": 2, "seconds": 1.0,
             "mewe": "mewe x", "clang": "clang y", "node": "v20", "v8_flags": ["--no-liftoff"],
             "quick": True, "repeats": 5, "warmup": 1, "trace_runs": 100,
             "load_average_start": [0.5, 0.5, 0.5], "load_average_end": [1.0, 1.0, 1.0],
             "baseline": "clang", "targets": {"overhead_median": 1.10, "overhead_worst": 1.5,
                                              "unique_trace_ratio": 0.99, "entropy": 0.95,
                                              "secp256k1_pipeline_s": 60.0}},
    "workloads": [
        {"name": "secp256k1-x", "trace_args": ["1"], "trace_input": "recipe trace_args",
         "settings": {"call": _setting(2.0, 75.0, cold=1.5), "instance": _setting(1.05, 70.0)},
         "traces": {"call": _trace(1.0, 1.0), "instance": _trace(0.5, 0.8, 0.6, 50)}},
        {"name": "fast", "trace_args": [], "trace_input": "workload args",
         "settings": {"call": _setting(1.02, cold=3.0), "instance": _setting(1.01)},
         "traces": {"call": _trace(1.0, 1.0, 0.9), "instance": _trace(1.0, 1.0)}},
        {"name": "broken", "trace_args": [], "trace_input": "workload args",
         "error": "prepare: clang (original) failed with status 1"},
    ],
}


class RenderTest(unittest.TestCase):
    """Markdown, summary and SVG from a hand-made results document."""

    def setUp(self):
        self.doc = copy.deepcopy(SYNTHETIC)
        self.doc["summary"] = render.summary(self.doc)

    def test_targets_are_judged(self):
        checks = {c["target"]: c for c in self.doc["summary"]["call"]["targets"]}
        self.assertAlmostEqual(checks["median overhead"]["value"], 1.51)
        self.assertFalse(checks["median overhead"]["met"])
        self.assertFalse(checks["worst overhead"]["met"])
        self.assertEqual(checks["worst overhead"]["where"], "secp256k1-x")
        self.assertTrue(checks["unique-trace ratio"]["met"])
        self.assertFalse(checks["secp256k1 pipeline"]["met"])
        self.assertFalse(self.doc["summary"]["all_targets_met_at_default"])
        instance = {c["target"]: c for c in self.doc["summary"]["instance"]["targets"]}
        self.assertFalse(instance["unique-trace ratio"]["met"])

    def test_markdown_has_one_row_per_workload_and_the_verdicts(self):
        text = render.markdown(self.doc)
        self.assertEqual(text.count("| workload | warm overhead | cold overhead |"), 2)
        self.assertEqual(text.count("| workload | variants | distinct in wasm |"), 2)
        self.assertIn("| secp256k1-x | 2.00x | 1.50x | 3.00x | 4.00x | 2.50x | – | 1.30x | 75.0 "
                      "| 80 |", text)
        self.assertIn("| secp256k1-x | 8 | 7/8 (0.88) | 2/3 (0.67) | 1.2 | 1.00 | 1.000 "
                      "| 0.990 | 1e+03 | 100 | call 1, every 1 |", text)
        self.assertEqual(text.count("| broken | error: prepare"), 4)
        self.assertIn("**MISSED**", text)
        self.assertIn("## Errors", text)
        self.assertIn("dispatch switch, granularity call, rng wasi", text)

    def test_median_and_worst_of_every_measure(self):
        measures = {m["measure"]: m for m in self.doc["summary"]["call"]["measures"]}
        self.assertEqual(len(measures), len(render.MEASURES))
        cold = measures["cold overhead"]
        self.assertEqual((cold["median"], cold["worst"], cold["worst_workload"]),
                         (2.25, 3.0, "fast"))
        choice = measures["choice entropy"]  # diversity is worst at its lowest
        self.assertEqual((choice["worst"], choice["worst_workload"]), (0.9, "fast"))
        self.assertEqual(measures["warm overhead"]["workloads"], 2)
        text = render.markdown(self.doc)
        self.assertIn("| cold overhead | 2.25x | 3.00x | fast | 2 |", text)
        self.assertIn("| choices per run | 525 | 50 | secp256k1-x | 2 |", text)

    def test_svg_is_well_formed(self):
        root = ET.fromstring(chart.svg(self.doc))
        self.assertTrue(root.tag.endswith("svg"))
        texts = [t.text for t in root.iter() if t.tag.endswith("text")]
        for expected in ("secp256k1-x", "fast", "broken", "per call (default)",
                         "per instance", "target 1.10x", "run time / original"):
            self.assertIn(expected, texts)


class RunHelpersTest(unittest.TestCase):
    """The measures that run.py computes itself."""

    def test_choice_entropy(self):
        variants = {0: 4, 1: 2, 2: 1}
        # Uniform over 4 and over 2: 1; a dispatcher with one body is left out.
        self.assertAlmostEqual(run.choice_entropy({"0": [5, 5, 5, 5], "1": [3, 3],
                                                   "2": [9]}, variants), 1.0)
        # Always the same variant: 0, weighted by the choices made.
        self.assertAlmostEqual(run.choice_entropy({"0": [8, 0, 0, 0], "1": [4, 4]},
                                                  variants), 8 / 16)
        self.assertIsNone(run.choice_entropy({}, variants))

    def test_code_section_bytes(self):
        # magic, version, a type section of 4 bytes, a code section of 6 bytes, a custom
        # section: the code section's size is read through its LEB128 length.
        module = (b"\0asm" + bytes([1, 0, 0, 0]) + bytes([1, 4, 1, 0x60, 0, 0])
                  + bytes([10, 6, 1, 4, 0, 0x41, 0, 0x0B]) + bytes([0, 2, 1, 0x61]))
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / "m.wasm"
            path.write_bytes(module)
            self.assertEqual(run.code_section_bytes(path), 6)
            path.write_bytes(b"nope")
            with self.assertRaises(ValueError):
                run.code_section_bytes(path)


class MeasureTest(unittest.TestCase):
    """wait4 gives each child's own peak, not the largest child's so far."""

    def _peak(self, mib):
        with tempfile.TemporaryDirectory() as tmp:
            code = f"b = bytearray({mib} << 20); b[::4096] = b'x' * len(b[::4096])"
            m = measure.spawn_measured([sys.executable, "-c", code],
                                       pathlib.Path(tmp) / "log")
        self.assertEqual(m.returncode, 0)
        return m.peak_mib

    def test_peak_is_per_child(self):
        big = self._peak(200)
        small = self._peak(1)
        self.assertGreaterEqual(big, 200)
        self.assertLess(small, 100)

    def test_failure_is_reported(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(measure.StepError):
                measure.must_measured([sys.executable, "-c", "raise SystemExit(3)"],
                                      pathlib.Path(tmp) / "log", "failing child")


def _missing_tools():
    missing = [t for t in (CLANG, NODE) if shutil.which(t) is None]
    if not os.access(MEWE, os.X_OK):
        missing.append(MEWE)
    return missing


@unittest.skipIf(_missing_tools(), f"needs mewe, clang and node: missing {_missing_tools()}")
class EndToEndTest(unittest.TestCase):
    """run.py on one small workload against targets that no binary can meet."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.out = pathlib.Path(cls.tmp.name) / "results"
        cmd = [sys.executable, str(HERE / "run.py"), "--workloads", "base64-bench",
               "--repeats", "1", "--warmup", "1", "--cold-repeats", "1",
               "--compile-repeats", "1", "--trace-runs", "3", "--out", str(cls.out),
               "--target", "overhead_median=0.01", "--target", "overhead_worst=0.01",
               "--target", "entropy=1.01"]
        env = dict(os.environ, MEWE=MEWE, CLANG=CLANG, NODE=NODE)
        cls.p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exits_0_although_targets_are_missed(self):
        self.assertEqual(self.p.returncode, 0, self.p.stderr[-3000:])
        self.assertIn("**MISSED**", self.p.stdout)

    def test_prints_the_figures(self):
        row = next(line for line in self.p.stdout.splitlines()
                   if line.startswith("| base64-bench |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        self.assertEqual(len(cells), len(render.COLUMNS))
        for cell in cells[1:6] + cells[7:8]:  # warm, cold, Liftoff, TurboFan, code, size
            self.assertRegex(cell, r"^\d+\.\d\dx$")
        self.assertRegex(cells[6], r"^0\.\d\d\d$")  # dispatch share of the code section
        row = [line for line in self.p.stdout.splitlines()
               if line.startswith("| base64-bench |")][1]
        cells = [c.strip() for c in row.strip("|").split("|")]
        self.assertEqual(len(cells), len(render.DIVERSITY_COLUMNS))
        self.assertRegex(cells[5], r"^\d\.\d\d$")  # unique-trace ratio
        self.assertRegex(cells[7], r"^\d\.\d\d\d$")  # choice entropy

    def test_writes_results(self):
        doc = json.loads((self.out / "results.json").read_text())
        w = doc["workloads"][0]
        self.assertNotIn("error", w)
        for setting in ("call", "instance"):
            s = w["settings"][setting]
            self.assertGreater(s["overhead"], 0)
            for key in ("cold_overhead", "compile_liftoff", "compile_turbofan",
                        "code_section_ratio"):
                self.assertGreater(s[key], 0, key)
            self.assertGreater(w["traces"][setting]["choices_per_run"], 0)
            self.assertGreater(w["traces"][setting]["fresh_per_run"], 0)
            self.assertGreater(w["traces"][setting]["choice_entropy"], 0)
            self.assertGreater(s["pipeline_s"], 0)
            self.assertGreater(s["peak_mib"], 1)
            self.assertGreater(s["dispatchers"], 0)
            self.assertEqual(w["traces"][setting]["runs"], 3)
        self.assertFalse(doc["summary"]["all_targets_met_at_default"])
        self.assertIn("| base64-bench |", (self.out / "results.md").read_text())
        ET.parse(self.out / "chart.svg")


if __name__ == "__main__":
    unittest.main(verbosity=2)
