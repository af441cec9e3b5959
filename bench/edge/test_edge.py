#!/usr/bin/env python3
"""A short run of the local edge (bench/edge/run) with assertions on its JSON: the fields
the results promise, faults (a trapping instance answers 500 and serving goes on; a node
killed on purpose is restarted and serves again), the comparison of answers (two different
programs served as "original" and "multivariant" must be caught), and usage errors.

    python3 bench/edge/test_edge.py [OUT_DIR]

Needs mewe ($MEWE, else build/tools/mewe), clang ($CLANG, else clang-19) and node ($NODE);
meson's test bench-edge sets them. Serves base64 and the fault endpoint only: neither needs
an npm package, and their builds are kept in OUT_DIR/work between runs. A benchmark is not
a test: no timing is asserted. Exit 77 (skip) when a tool is missing.

MEWE_EDGE_ALL=1 adds the default mix's regex endpoint (Oniguruma from the npm package
`oniguruma`, fetched once; its first build through mewe takes from 10 s to a few minutes):
its answers, its refusals of bad requests, and its traces.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
RUN = HERE / "run"
REPO = HERE.parent.parent
OUT = None  # set in main


def run_edge(*args, out=None):
    """bench/edge/run with args; returns (CompletedProcess, results JSON or None)."""
    out = pathlib.Path(out or OUT)
    result = out / "out.json"
    result.unlink(missing_ok=True)
    p = subprocess.run([sys.executable, str(RUN), "--out", str(out), "--json", str(result),
                        *args], capture_output=True, text=True, timeout=240)
    doc = json.loads(result.read_text()) if result.exists() else None
    return p, doc


class Bundled(unittest.TestCase):
    """One run of base64 and the fault endpoint on 2 nodes, node 0 killed early enough that
    its successor has time to serve even on a busy machine."""

    @classmethod
    def setUpClass(cls):
        cls.p, cls.doc = run_edge("--endpoints", "base64,fault", "--nodes", "2",
                                  "--seconds", "2.5", "--warmup", "0.5",
                                  "--kill-node-after", "0.3")
        if cls.p.returncode != 0 or cls.doc is None:
            raise AssertionError(f"run failed with status {cls.p.returncode}:\n"
                                 f"{cls.p.stderr[-3000:]}")

    def test_fields(self):
        d = self.doc
        self.assertEqual(d["nodes"], 2)
        for where in (d, *d["endpoints"].values()):
            for side in ("original", "multivariant"):
                for key in ("requests", "errors", "p50_ms", "p99_ms", "rps"):
                    self.assertIn(key, where[side], f"{side}.{key}")
                self.assertGreater(where[side]["requests"], 0)
                self.assertLessEqual(where[side]["p50_ms"], where[side]["p99_ms"])
            self.assertEqual(where["mismatches"], 0)
            self.assertGreaterEqual(where["trace_unique"], 0.0)
            self.assertLessEqual(where["trace_unique"], 1.0)
        self.assertEqual(set(d["endpoints"]), {"base64", "fault"})
        # A body given as {"file": PATH} in services.json is that file's content.
        by_file = d["endpoints"]["base64"]["trace_by_request"][-1]
        self.assertEqual(by_file["body_bytes"],
                         (REPO / "tests/corpus/programs/base64.c").stat().st_size)
        # The two sides are sent the same requests, pair by pair.
        self.assertEqual(d["original"]["requests"], d["multivariant"]["requests"])
        out = pathlib.Path(OUT)
        self.assertTrue((out / "results.md").read_text().startswith("## Local edge"))
        self.assertIn("<svg", (out / "chart.svg").read_text())

    def test_traps_answer_500_and_serving_goes_on(self):
        for side in ("original", "multivariant"):
            f = self.doc["endpoints"]["fault"][side]
            self.assertGreater(f["status"].get("500", 0), 0, f"{side}: no trap answered 500")
            self.assertGreater(f["status"].get("400", 0), 0, f"{side}: no exit 3 answered 400")
            self.assertGreater(f["status"].get("200", 0), 0, f"{side}: no echo answered")
            # Errors are the 500s and the transport failures, not the 400s.
            self.assertEqual(f["errors"], f["status"].get("500", 0) + f["transport_errors"])

    def test_killed_node_is_restarted_and_serves(self):
        d = self.doc
        self.assertEqual(len(d["kills"]), 1)
        self.assertGreaterEqual(d["node_restarts"], 1)
        restart = d["restarts"][0]
        self.assertEqual(restart["node"], 0)
        self.assertEqual(restart["pid"], d["kills"][0]["pid"])
        self.assertIn("signal 9", restart["died"])
        served = d["served"]["0"]
        self.assertGreater(served.get(str(restart["new_pid"]), 0), 0,
                           f"the restarted node served nothing: {served}")


class Custom(unittest.TestCase):
    """--original/--multivariant with modules of the bundled run above."""

    def modules(self, name):
        work = pathlib.Path(OUT) / "work" / name
        return work / "original.wasm", work / "multivariant.wasm", work / "traced.wasm"

    def test_custom_modules(self):
        original, multivariant, traced = self.modules("fault")
        with tempfile.TemporaryDirectory() as out:
            p, doc = run_edge("--original", str(original), "--multivariant", str(multivariant),
                              "--traced", str(traced), "--request", "/echo/hi",
                              "--nodes", "1", "--seconds", "0.5", "--warmup", "0", out=out)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertEqual(doc["original"]["status"], {"200": doc["original"]["requests"]})
        self.assertGreater(doc["trace_requests"], 0)

    def test_differing_answers_are_counted(self):
        fault, _, _ = self.modules("fault")
        b64, _, _ = self.modules("base64")
        with tempfile.TemporaryDirectory() as out:
            p, doc = run_edge("--original", str(fault), "--multivariant", str(b64),
                              "--request", "/echo/hi", "--nodes", "1", "--seconds", "0.5",
                              "--warmup", "0", out=out)
        self.assertEqual(p.returncode, 1)
        self.assertIn("differ from the original", p.stderr)
        self.assertEqual(doc["mismatches"], doc["original"]["requests"])
        self.assertGreater(doc["mismatches"], 0)


@unittest.skipUnless(os.environ.get("MEWE_EDGE_ALL") == "1", "MEWE_EDGE_ALL=1 adds it")
class Regex(unittest.TestCase):
    """The regex endpoint: its mix answered alike by every build with a trace of its own per
    request, then bad requests refused (400), served as custom modules."""

    def test_mix_then_bad_requests(self):
        p, doc = run_edge("--endpoints", "regex", "--nodes", "1", "--seconds", "1",
                          "--warmup", "0.5")
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        e = doc["endpoints"]["regex"]
        self.assertEqual(e["original"]["status"], {"200": e["original"]["requests"]})
        self.assertEqual(e["mismatches"] + e["traced_mismatches"], 0)
        self.assertGreater(e["trace_length"]["min"], 1000)  # many functions per request
        self.assertEqual(e["trace_unique"], 1.0)
        work = pathlib.Path(OUT) / "work" / "regex"
        with tempfile.TemporaryDirectory() as out:
            latin1 = pathlib.Path(out) / "latin1.txt"
            latin1.write_bytes("caf\u00e9".encode("latin-1"))
            args = ["--original", str(work / "original.wasm"),
                    "--multivariant", str(work / "multivariant.wasm"),
                    "--request", "/search/(", "--request", "/search/a/x",
                    "--request", "/highlight", "--body", os.devnull, "--body", os.devnull,
                    "--body", str(latin1), "--nodes", "1", "--seconds", "0.5",
                    "--warmup", "0"]
            p, doc = run_edge(*args, out=out)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertEqual(doc["original"]["status"], {"400": doc["original"]["requests"]})
        self.assertEqual(doc["mismatches"], 0)


class Usage(unittest.TestCase):
    def usage(self, *args):
        p = subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        return p.stderr

    def test_errors_name_the_culprit(self):
        self.assertIn("--original and --multivariant", self.usage("--original", "a.wasm"))
        self.assertIn("--nodes must be at least 1", self.usage("--nodes", "0"))
        self.assertIn("--seconds must be > 0, got 0", self.usage("--seconds", "0"))
        self.assertIn("unknown endpoint nope", self.usage("--endpoints", "nope"))
        with tempfile.NamedTemporaryFile(suffix=".wasm") as f:
            f.write(b"not wasm")
            f.flush()
            err = self.usage("--original", f.name, "--multivariant", f.name)
            self.assertIn(f"--original {f.name}: not a WebAssembly module", err)


def main():
    global OUT
    for tool, default in (("MEWE", str(REPO / "build" / "tools" / "mewe")),
                          ("CLANG", "clang-19"), ("NODE", "node")):
        if not shutil.which(os.environ.get(tool) or default):
            print(f"SKIP: {tool} not found ({os.environ.get(tool) or default})")
            return 77
    OUT = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="mewe-edge-test-")
    pathlib.Path(OUT).mkdir(parents=True, exist_ok=True)
    prog = unittest.main(argv=[sys.argv[0], "-v"], exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
