"""Tests of the mewe command and the mewe-cc wrapper.

Every flag is exercised for its effect on the output (bytes, wasm sections, the report, or
how the program runs under tests/wasm-run.mjs), and every failure for its exit status,
message and the absence of an output file.

Environment (set by tests/cli/meson.build): MEWE, MEWE_CC, MEWE_MAN (the generated mewe.1),
MEWE_TEST_SRCDIR (tests/), CLANG, NODE.
"""

import json
import os
import pathlib
import pty
import re
import resource
import shutil
import subprocess

import pytest

MEWE = os.environ.get("MEWE", "mewe")
MEWE_CC = os.environ.get("MEWE_CC", "mewe-cc")
CARGO_MEWE = os.environ.get("CARGO_MEWE", "cargo-mewe")
MEWE_MAN = os.environ.get("MEWE_MAN", "")
SRCDIR = pathlib.Path(os.environ.get("MEWE_TEST_SRCDIR", pathlib.Path(__file__).parents[1]))
CLANG = os.environ.get("CLANG", "clang-19")
NODE = os.environ.get("NODE", "node")
DATA = SRCDIR / "cli" / "data"
FIXTURES = SRCDIR / "fixtures"
TOOLS = SRCDIR.parent / "tools"
RUNNER = SRCDIR / "wasm-run.mjs"
# node 20's WASI crashes now and then in a process that runs many instances unless TurboFan's
# fast API calls are off: every node that runs wasm gets this flag.
NODE_FLAG = "--no-turbo-fast-api-calls"
# wabt's validator, with the proposals beyond its defaults that LLVM 19 can emit.
WASM_VALIDATE = os.environ.get("WASM_VALIDATE", "wasm-validate")
VALIDATE_FEATURES = ["--enable-threads", "--enable-tail-call", "--enable-exceptions"]

# A library bug must fail a test, not the machine: cap the time of every child and the
# memory of mewe's (not node's: V8 reserves far more address space than it uses for wasm).
MEMORY_LIMIT = 4 << 30
TIMEOUT = 120


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(cmd, env=None, limit_memory=True):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                          timeout=TIMEOUT, preexec_fn=_limit_memory if limit_memory else None)


def validate(path):
    """Every module the tests make must pass wabt's validator, not only V8."""
    p = run([WASM_VALIDATE, *VALIDATE_FEATURES, "--", path])
    assert p.returncode == 0, f"{path} is not valid WebAssembly:\n{p.stdout}{p.stderr}"


def validate_outputs(args):
    """Validates the wasm files that a successful mewe or mewe-cc run wrote (-o FILE)."""
    args = [str(a) for a in args]
    outs = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-o", "--output")]
    outs += [a.split("=", 1)[1] for a in args if a.startswith("--output=")]
    for out in outs:
        path = pathlib.Path(out)
        if out != "-" and path.is_file() and path.read_bytes()[:4] == b"\0asm":
            validate(path)


def mewe(*args, rc=0, env=None, check_wasm=True):
    """Runs mewe and checks its exit status; returns the CompletedProcess."""
    p = run([MEWE, *args], env=env)
    assert p.returncode == rc, f"mewe {' '.join(map(str, args))}: {p.returncode}\n{p.stderr}"
    if rc == 0 and check_wasm:
        validate_outputs(args)
    return p


def mewe_fails(*args, rc, says=()):
    """Runs mewe expecting failure with status rc and a message containing every `says`."""
    p = mewe(*args, rc=rc)
    assert p.stderr.startswith("mewe: "), p.stderr
    for s in says:
        assert s in p.stderr, f"{s!r} not in {p.stderr!r}"
    return p


def report_of(*args):
    """The JSON report of one run, through --report -."""
    return json.loads(mewe(*args, "--report", "-").stdout)


def wasm_run(module, *args, trace=None, discriminate=None, invoke=None):
    validate(module)
    cmd = [NODE, "--no-warnings", NODE_FLAG, RUNNER]
    if trace:
        cmd += ["--trace", trace]
    if discriminate:
        cmd += ["--discriminate", discriminate]
    if invoke:
        cmd += ["--reactor", "--invoke", invoke]
    return run(cmd + [module, *args], limit_memory=False)


def expected(name):
    return (FIXTURES / f"{name}.expected").read_text()


# ------------------------------------------------------------------ reading wasm


def _leb(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, pos


def _name(buf, pos):
    n, pos = _leb(buf, pos)
    return buf[pos:pos + n].decode(), pos + n


def sections(path):
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == b"\0asm\1\0\0\0", f"{path} is not a wasm module"
    pos, out = 8, []
    while pos < len(data):
        sid = data[pos]
        size, pos = _leb(data, pos + 1)
        out.append((sid, data[pos:pos + size]))
        pos += size
    return out


def custom_sections(path):
    return [_name(body, 0)[0] for sid, body in sections(path) if sid == 0]


def _skip_limits(buf, pos):
    flags = buf[pos]
    _, pos = _leb(buf, pos + 1)
    if flags & 1:
        _, pos = _leb(buf, pos)
    return pos


def imports(path):
    out = []
    for sid, body in sections(path):
        if sid != 2:
            continue
        count, pos = _leb(body, 0)
        for _ in range(count):
            mod, pos = _name(body, pos)
            name, pos = _name(body, pos)
            kind = body[pos]
            pos += 1
            if kind == 0:
                _, pos = _leb(body, pos)
            elif kind == 1:
                pos = _skip_limits(body, pos + 1)
            elif kind == 2:
                pos = _skip_limits(body, pos)
            else:
                pos += 2
            out.append(f"{mod}.{name}")
    return out


def exports(path):
    out = []
    for sid, body in sections(path):
        if sid != 7:
            continue
        count, pos = _leb(body, 0)
        for _ in range(count):
            name, pos = _name(body, pos)
            _, pos = _leb(body, pos + 1)
            out.append(name)
    return out


def table_functions(path):
    """Function indices placed in tables by active element segments (what call_indirect
    can reach)."""
    total = 0
    for sid, body in sections(path):
        if sid != 9:
            continue
        count, pos = _leb(body, 0)
        for _ in range(count):
            flags, pos = _leb(body, pos)
            assert flags == 0, "wasm-ld writes only flag-0 element segments"
            while body[pos] != 0x0B:  # the offset expression: i32.const N end
                pos += 1
            n, pos = _leb(body, pos + 1)
            for _ in range(n):
                _, pos = _leb(body, pos)
            total += n
    return total


def trace_pairs(path):
    return [tuple(map(int, line.split())) for line in pathlib.Path(path).read_text().split("\n")
            if line]


# ------------------------------------------------------------------ shared inputs


@pytest.fixture(scope="session")
def bc(tmp_path_factory):
    """Bitcode of the fixtures, compiled once: name -> path."""
    out = tmp_path_factory.mktemp("bitcode")
    sources = {
        "fnptr": (FIXTURES / "fnptr.c", []),
        "loops": (FIXTURES / "loops.c", []),
        "calc": (DATA / "calc.c", []),
        "calc_alt": (DATA / "calc.c", ["-DALT"]),
        "undefined": (DATA / "undefined.c", []),
        "getpid": (DATA / "getpid.c", []),
        "bigstack": (DATA / "bigstack.c", []),
    }
    procs = {}
    for name, (src, flags) in sources.items():
        procs[name] = subprocess.Popen(
            [CLANG, "--target=wasm32-wasi", "-O2", "-emit-llvm", "-c", *flags, "-o",
             out / f"{name}.bc", src], stderr=subprocess.PIPE, text=True)
    for name, p in procs.items():
        assert p.wait() == 0, f"{CLANG} cannot compile {name}: {p.stderr.read()}"
    return {name: out / f"{name}.bc" for name in sources}


@pytest.fixture(scope="session")
def default_wasm(bc, tmp_path_factory):
    """fnptr through mewe with no option, and its report."""
    out = tmp_path_factory.mktemp("default")
    wasm, rep = out / "fnptr.wasm", out / "fnptr.json"
    mewe(bc["fnptr"], "-o", wasm, "--report", rep)
    return wasm, json.loads(rep.read_text())


# ------------------------------------------------------------------ the default pipeline


def test_default_pipeline_runs_like_the_original(default_wasm):
    wasm, rep = default_wasm
    assert "_start" in exports(wasm)
    assert "wasi_snapshot_preview1.random_get" in imports(wasm)
    assert rep["totals"]["dispatchers"] > 0
    p = wasm_run(wasm)
    assert p.returncode == 0, p.stderr
    assert p.stdout == expected("fnptr")


def test_default_diversifies_every_eligible_function(default_wasm):
    _, rep = default_wasm
    for f in rep["functions"]:
        if f["status"] == "skipped":
            assert f["reason"], f
    assert rep["link"]["dispatch"] == "switch"
    assert rep["link"]["granularity"] == "call"
    assert rep["link"]["rng"] == "wasi"
    assert rep["seed"] == 0


SUMMARY = re.compile(r"mewe: (\d+)/(\d+) eligible functions diversified, (\d+) variants "
                     r"\((\d+) distinct in wasm\), code [\d.]+ (kB|MB|bytes) "
                     r"\(IR [\d.]+x the input's\), [\d.]+ s\n")


def test_summary_line_but_no_progress_when_stderr_is_not_a_terminal(bc, tmp_path):
    p = mewe(bc["loops"], "-o", tmp_path / "x.wasm")
    assert p.stdout == ""
    m = SUMMARY.fullmatch(p.stderr)
    assert m, p.stderr
    rep = report_of(bc["loops"], "-q", "-o", tmp_path / "y.wasm")
    assert (int(m[1]), int(m[2]), int(m[3])) == (rep["totals"]["diversified"],
                                                  rep["totals"]["eligible"],
                                                  rep["totals"]["variants"])
    assert 0 < int(m[4]) <= int(m[3])
    assert mewe("-q", bc["fnptr"], "-o", tmp_path / "x.wasm").stderr == ""
    # Variants inlined into their dispatcher have no body of their own in the wasm.
    p = mewe(bc["fnptr"], "-o", tmp_path / "x.wasm")
    assert re.fullmatch(r"mewe: \d+/\d+ eligible functions diversified, \d+ variants "
                        r"\((inlined in \d+ dispatchers|\d+/\d+ distinct in wasm, the others "
                        r"inlined in \d+ dispatchers)\), code .*, [\d.]+ s\n", p.stderr), p.stderr


def test_summary_of_each_stage(bc, tmp_path):
    p = mewe(bc["fnptr"], "--stage=generate", "-o", tmp_path / "v.bc")
    assert re.fullmatch(r"mewe: \d+/\d+ eligible functions diversified, \d+ variants, "
                        r"[\d.]+ s\n", p.stderr), p.stderr
    p = mewe(tmp_path / "v.bc", "--stage=link", "-o", tmp_path / "m.bc")
    assert re.fullmatch(r"mewe: [1-9]\d* dispatchers made, [\d.]+ s\n", p.stderr), p.stderr
    p = mewe(tmp_path / "m.bc", "--stage=emit", "-o", tmp_path / "m.wasm")
    assert re.fullmatch(r"mewe: code [\d.]+ kB, [\d.]+ s\n", p.stderr), p.stderr


def _run_on_tty(args):
    """Runs mewe with stderr on a pseudo-terminal; returns (status, what it printed)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([MEWE, *map(str, args)], stderr=slave, stdout=subprocess.DEVNULL,
                         preexec_fn=_limit_memory)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return p.wait(timeout=TIMEOUT), b"".join(chunks).decode(errors="replace")


def test_progress_line_on_a_terminal(bc, tmp_path):
    status, text = _run_on_tty([bc["fnptr"], "-o", tmp_path / "x.wasm"])
    assert status == 0
    assert "mewe: generating variants..." in text
    assert "mewe: emitting WebAssembly..." in text
    # The library's own progress: functions done of total, then dispatchers.
    done = re.findall(r"mewe: generating variants (\d+)/(\d+)", text)
    assert done and done[-1][0] == done[-1][1], text
    assert re.search(r"mewe: making dispatchers (\d+)/\1", text), text
    assert "mewe: compiling to wasm 1/1" in text and "mewe: linking wasm 1/1" in text
    # The line is cleared, and the summary stays.
    assert text.endswith(" s\r\n") and "eligible functions diversified" in text.splitlines()[-1]


def test_quiet_flag_silences_the_progress_line(bc, tmp_path):
    status, text = _run_on_tty(["-q", bc["fnptr"], "-o", tmp_path / "x.wasm"])
    assert status == 0
    assert "generating" not in text


# ------------------------------------------------------------------ early checks and no-ops


def test_other_target_is_refused_before_any_work(tmp_path):
    x86 = tmp_path / "x86.bc"
    p = run([CLANG, "--target=x86_64-linux-gnu", "-O2", "-emit-llvm", "-c", "-o", x86,
             FIXTURES / "loops.c"])
    assert p.returncode == 0, p.stderr
    p = mewe(x86, "-v", "-o", tmp_path / "x.wasm", rc=1)
    assert "x86.bc" in p.stderr and "x86_64" in p.stderr and "wasm32" in p.stderr
    # Refused at load: no variant was generated first.
    assert "generating variants" not in p.stderr, p.stderr
    assert not (tmp_path / "x.wasm").exists()
    # A module is still free to be diversified for another use than wasm.
    mewe(x86, "--stage=generate", "-o", tmp_path / "x.bc")
    # A wasm32 triple with another target's data layout is refused as well.
    ll = tmp_path / "layout.ll"
    ll.write_text('target datalayout = "e-m:e-i64:64-f80:128-n8:16:32:64-S128"\n'
                  'target triple = "wasm32-unknown-wasi"\n'
                  "define i32 @main() {\n  ret i32 0\n}\n")
    p = mewe(ll, "-o", tmp_path / "l.wasm", rc=1)
    assert "layout.ll" in p.stderr and "data layout" in p.stderr, p.stderr


def test_allow_and_deny_that_match_nothing_are_flagged(bc, tmp_path):
    p = mewe(bc["fnptr"], "--allow", "no_such_*", "--allow", "main", "--deny", "nope",
             "-o", tmp_path / "x.wasm")
    assert "warning: --allow 'no_such_*' matches no function of" in p.stderr
    assert "warning: --deny 'nope' matches no function of" in p.stderr
    assert "'main' matches" not in p.stderr
    p = mewe("-q", bc["fnptr"], "--allow", "no_such_*", "-o", tmp_path / "x.wasm")
    assert p.stderr == ""


def test_stage_link_without_variants_is_flagged(bc, tmp_path):
    p = mewe(bc["loops"], "--stage=link", "-o", tmp_path / "x.bc")
    assert "warning: --stage=link:" in p.stderr and "carries no variants" in p.stderr
    mewe(bc["loops"], "--stage=generate", "-o", tmp_path / "v.bc")
    p = mewe(tmp_path / "v.bc", "--stage=link", "-o", tmp_path / "m.bc")
    assert "warning" not in p.stderr


def test_reactor_without_exports_is_flagged(bc, tmp_path):
    p = mewe(bc["calc"], "--emit", "reactor", "-o", tmp_path / "r.wasm")
    assert "warning: the reactor exports no function" in p.stderr
    p = mewe(bc["calc"], "--emit", "reactor", "--export", "calc_mix", "-o", tmp_path / "r.wasm")
    assert "warning" not in p.stderr


# ------------------------------------------------------------------ --platform

PLATFORM_IMPORTS = """\
#include <stdio.h>
__attribute__((import_module("fastly_abi"), import_name("init"))) int fastly_init(long long);
__attribute__((import_module("myhost"), import_name("ping"))) int ping(int);
int work(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * x ^ (s >> 1); return s; }
int main(int argc, char **argv)
{
    if (argc > 5) {
        fastly_init(1);
        return ping(argc);
    }
    printf("%d\\n", work(argc + 9));
    return 0;
}
"""


def test_platform_any_and_plain_output_pass_everywhere(bc, tmp_path):
    for platform in ("any", "fastly", "cloudflare", "wasmtime", "node"):
        out = tmp_path / f"{platform}.wasm"
        p = mewe(bc["loops"], f"--platform={platform}", "-o", out)
        assert "warning" not in p.stderr and out.exists(), (platform, p.stderr)
    mewe_fails(bc["loops"], "--platform=heroku", "-o", tmp_path / "x.wasm", rc=2,
               says=["--platform", "heroku"])


def test_platform_refuses_options_that_add_imports_before_any_work(bc, tmp_path):
    out = tmp_path / "x.wasm"
    for platform in ("fastly", "wasmtime"):
        p = mewe(bc["loops"], f"--platform={platform}", "--rng", "host", "-o", out, rc=2)
        assert f"--platform={platform}: --rng host adds the import env.discriminate" in p.stderr
        p = mewe(bc["loops"], f"--platform={platform}", "--rng", "host:module=m,name=n",
                 "--trace", "-o", out, rc=2)
        assert "--rng host adds the import m.n" in p.stderr
        assert "--trace adds the import mewe_trace.record" in p.stderr
        assert not out.exists()
    p = mewe(bc["loops"], "--platform=fastly", "--emit", "reactor", "--export", "main",
             "-o", out, rc=2)
    assert "--platform=fastly: --emit reactor" in p.stderr and "_start" in p.stderr
    # wasmtime runs reactors (wasmtime run --invoke).
    mewe(bc["calc"], "--platform=wasmtime", "--emit", "reactor", "--export", "calc_mix",
         "-o", out)


def test_platform_checks_the_programs_own_imports(tmp_path):
    src = tmp_path / "imp.c"
    src.write_text(PLATFORM_IMPORTS)
    bcfile = tmp_path / "imp.bc"
    p = run([CLANG, "--target=wasm32-wasi", "-O2", "-emit-llvm", "-c", "-o", bcfile, src])
    assert p.returncode == 0, p.stderr
    out = tmp_path / "imp.wasm"
    # Fastly provides fastly_* but not myhost.
    p = mewe(bcfile, "--platform=fastly", "-o", out, rc=1)
    assert "the output imports myhost.ping (from the program" in p.stderr
    assert "fastly_abi" not in p.stderr
    assert not out.exists()
    p = mewe(bcfile, "--platform=wasmtime", "-o", out, rc=1)
    assert "imports myhost.ping" in p.stderr and "imports fastly_abi.init" in p.stderr
    assert not out.exists()
    # A JavaScript host may provide them: a warning, and the output stays.
    for platform in ("node", "cloudflare"):
        p = mewe(bcfile, f"--platform={platform}", "-o", out)
        assert f"warning: --platform={platform}: the output imports myhost.ping" in p.stderr
        assert out.exists()
        out.unlink()


def test_platform_js_hosts_warn_about_option_imports(bc, tmp_path):
    out = tmp_path / "x.wasm"
    p = mewe(bc["loops"], "--platform=node", "--rng", "host", "--trace", "-o", out)
    assert "warning: --platform=node: the output imports env.discriminate (added by --rng " \
           "host)" in p.stderr
    assert "imports mewe_trace.record (added by --trace)" in p.stderr
    p = wasm_run(out, trace=tmp_path / "t.trace", discriminate="env.discriminate")
    assert p.returncode == 0 and p.stdout == expected("loops"), p.stderr
    p = mewe("-q", bc["loops"], "--platform=cloudflare", "--trace", "-o", out)
    assert p.stderr == ""


def test_several_inputs_are_linked(tmp_path):
    parts = []
    for src in ("hello.c", "util.c"):
        out = tmp_path / (src[:-2] + ".bc")
        p = run([CLANG, "--target=wasm32-wasi", "-O2", "-emit-llvm", "-c", f"-I{DATA}/include",
                 "-DGREETING=\"hi\"", "-o", out, DATA / src])
        assert p.returncode == 0, p.stderr
        parts.append(out)
    mewe(*parts, "-o", tmp_path / "h.wasm")
    p = wasm_run(tmp_path / "h.wasm")
    assert p.returncode == 0 and p.stdout.startswith("hi, multivariant world!"), p.stderr


# ------------------------------------------------------------------ output kinds and stages


def test_output_long_form(bc, tmp_path):
    mewe(bc["calc"], "--output", tmp_path / "c.wasm")
    assert wasm_run(tmp_path / "c.wasm", "20").stdout == "calc: 20 18240\n"


def test_output_kind_follows_the_extension(bc, tmp_path):
    mewe(bc["calc"], "-o", tmp_path / "c.o")
    assert "linking" in custom_sections(tmp_path / "c.o")
    mewe(bc["calc"], "-o", tmp_path / "c.bc")
    assert (tmp_path / "c.bc").read_bytes()[:4] == b"BC\xc0\xde"
    mewe(bc["calc"], "-o", tmp_path / "c.ll")
    text = (tmp_path / "c.ll").read_text()
    assert "define" in text and "mewe-dispatcher" in text


@pytest.mark.parametrize("kind", ["command", "reactor", "object", "bc", "ll"])
def test_emit_forces_the_kind(bc, tmp_path, kind):
    out = tmp_path / "out.bin"
    mewe(bc["calc"], "--emit", kind, "--export", "calc_mix", "-o", out)
    data = out.read_bytes()
    if kind == "bc":
        assert data[:4] == b"BC\xc0\xde"
    elif kind == "ll":
        assert b"mewe-dispatcher" in data
    elif kind == "object":
        assert "linking" in custom_sections(out)
    elif kind == "reactor":
        assert "_initialize" in exports(out) and "_start" not in exports(out)
    else:
        assert "_start" in exports(out) and "_initialize" not in exports(out)


def test_stages_one_at_a_time(bc, tmp_path):
    gen, linked, wasm = tmp_path / "g.bc", tmp_path / "l.ll", tmp_path / "e.wasm"
    mewe(bc["fnptr"], "--stage", "generate", "-o", gen)
    rep = report_of(gen, "--stage", "report")
    assert rep["totals"]["variants"] > 0 and rep["totals"]["dispatchers"] == 0
    mewe(gen, "--stage=link", "-o", linked)
    assert rep["totals"]["variants"] == report_of(linked, "--stage=report")["totals"]["variants"]
    assert report_of(linked, "--stage=report")["totals"]["dispatchers"] > 0
    mewe(linked, "--stage", "emit", "-o", wasm)
    assert wasm_run(wasm).stdout == expected("fnptr")


def test_stage_all_equals_the_stages_in_turn(bc, tmp_path, default_wasm):
    gen, linked, wasm = tmp_path / "g.bc", tmp_path / "l.bc", tmp_path / "e.wasm"
    mewe(bc["fnptr"], "--stage", "generate", "-o", gen)
    mewe(gen, "--stage", "link", "-o", linked)
    mewe(linked, "--stage", "emit", "-o", wasm)
    mewe(bc["fnptr"], "--stage", "all", "-o", tmp_path / "all.wasm")
    assert (tmp_path / "all.wasm").read_bytes() == default_wasm[0].read_bytes()
    assert wasm.read_bytes() == default_wasm[0].read_bytes()


def test_stage_emit_does_not_diversify(bc, tmp_path):
    rep = report_of(bc["fnptr"], "--stage", "emit", "-o", tmp_path / "e.wasm")
    assert rep["totals"]["variants"] == 0 and rep["totals"]["dispatchers"] == 0
    assert "mewe_trace.record" not in imports(tmp_path / "e.wasm")
    assert wasm_run(tmp_path / "e.wasm").stdout == expected("fnptr")


def test_stage_report_prints_or_writes(bc, tmp_path):
    p = mewe(bc["fnptr"], "--stage", "report")
    assert json.loads(p.stdout)["totals"]["functions"] > 0
    mewe(bc["fnptr"], "--stage", "report", "--report", tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text()) == json.loads(p.stdout)


def test_report_file_has_the_totals(bc, tmp_path):
    # Variants kept as functions, so that the wasm shows how many stayed distinct.
    mewe(bc["fnptr"], "--inline-limit", "1", "-o", tmp_path / "x.wasm", "--report",
         tmp_path / "r.json")
    rep = json.loads((tmp_path / "r.json").read_text())
    for key in ("functions", "eligible", "diversified", "dispatchers", "variants", "coverage",
                "log10_static_paths", "instructions_before", "instructions_after",
                "bitcode_bytes_before", "bitcode_bytes_after"):
        assert key in rep["totals"], key
    assert rep["module"] and "functions" in rep and "link" in rep
    # Written after emitting, so it tells what the wasm preserved.
    assert rep["wasm"]["bytes"] == (tmp_path / "x.wasm").stat().st_size
    assert 0 < rep["wasm"]["preservation"] <= 1


def odd_name_module(path, linkage):
    """A module with a function whose name holds the byte 0xFF, which is not UTF-8."""
    body = "(i32 %a) {\n  %b = add i32 %a, 7\n  %c = xor i32 %b, %a\n  %d = mul i32 %c, 3\n" \
           "  ret i32 %d\n}\n"
    path.write_text(
        'target triple = "wasm32-unknown-wasi"\n'
        f'define {linkage} i32 @"odd\\FF\\22name"{body}'
        'define i32 @entry(i32 %x) {\n  %r = call i32 @"odd\\FF\\22name"(i32 %x)\n'
        '  ret i32 %r\n}\n')
    return path


def test_local_names_that_are_not_utf8_are_renamed_in_the_wasm(tmp_path):
    # LLVM keeps a name that is not UTF-8 as it is, but the wasm name section holds UTF-8
    # only (wabt refuses anything else). A local function is named in the wasm with each such
    # byte as the character of that value, as the report's JSON shows it; the wasm validates
    # (mewe() checks) and the report has its "wasm" section.
    odd = odd_name_module(tmp_path / "odd.ll", "internal")
    mewe(odd, "--emit", "reactor", "--export", "entry", "--min-instructions", "1",
         "--inline-limit", "1", "-o", tmp_path / "odd.wasm", "--report", tmp_path / "r.json")
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["functions"][0]["name"] == "odd\u00ff\"name"
    assert [d["name"] for d in rep["wasm"]["dispatchers"]] == ["odd\u00ff\"name"]
    assert rep["wasm"]["dispatchers"][0]["variants"] == 4
    p = wasm_run(tmp_path / "odd.wasm", "5", invoke="entry")
    assert (p.returncode, p.stdout.strip()) == (0, str(((5 + 7) ^ 5) * 3))


def test_external_names_that_are_not_utf8_are_refused(tmp_path):
    # An external function keeps its name, since other code links against it: a clear
    # error that names it (the odd byte shown as \xFF) and the way out, and no output.
    odd = odd_name_module(tmp_path / "odd.ll", "")
    for out in ("odd.wasm", "odd.o"):
        p = mewe_fails(odd, "--min-instructions", "1", "-o", tmp_path / out, rc=1,
                       says=["'odd\\xFF\"name'", "not valid UTF-8", "make it internal"])
        assert p.stderr.count("\n") <= 2, p.stderr  # the error, and the summary at most
        assert not (tmp_path / out).exists()
    # The module itself is fine: written as IR, it keeps the name.
    mewe(odd, "--stage", "generate", "-o", tmp_path / "odd.bc")


def test_report_dash_is_stdout_only(bc, tmp_path):
    p = mewe(bc["fnptr"], "-o", tmp_path / "x.wasm", "--report", "-")
    assert json.loads(p.stdout)["totals"]
    assert not (tmp_path / "-").exists()


# ------------------------------------------------------------------ generation options


def test_seed_changes_the_bytes_and_repeats_them(bc, tmp_path):
    a, b, c = (tmp_path / f"{n}.wasm" for n in "abc")
    mewe(bc["fnptr"], "--seed", "1", "-o", a)
    mewe(bc["fnptr"], "--seed", "2", "-o", b)
    mewe(bc["fnptr"], "--seed=1", "-o", c)
    assert a.read_bytes() != b.read_bytes()
    assert a.read_bytes() == c.read_bytes()
    mewe(bc["fnptr"], "--seed", "0x10", "-o", b)
    mewe(bc["fnptr"], "--seed", "16", "-o", c)
    assert b.read_bytes() == c.read_bytes()
    assert report_of(bc["fnptr"], "--stage=report", "--seed", "18446744073709551615")[
        "seed"] == 18446744073709551615


@pytest.mark.parametrize("flag", ["-n", "--variants"])
def test_variants_sets_the_count(bc, tmp_path, flag):
    rep = report_of(bc["fnptr"], flag, "5", "-o", tmp_path / "x.wasm")
    assert rep["totals"]["diversified"] > 0
    assert all(f["variants"] <= 5 for f in rep["functions"])
    assert max(f["variants"] for f in rep["functions"]) == 5
    rep = report_of(bc["fnptr"], flag, "0", "-o", tmp_path / "x.wasm")
    assert rep["totals"]["variants"] == 0 and rep["totals"]["dispatchers"] == 0


def test_n_attached_value(bc, tmp_path):
    rep = report_of(bc["fnptr"], "-n1", "-o", tmp_path / "x.wasm")
    assert max(f["variants"] for f in rep["functions"]) == 1


def test_diversifier_choice_and_parameters(bc, tmp_path):
    subst, blocks = tmp_path / "s.wasm", tmp_path / "b.wasm"
    mewe(bc["fnptr"], "--diversifier", "subst", "-o", subst)
    mewe(bc["fnptr"], "--diversifier", "blocks:split=1,shuffle=1", "-o", blocks)
    assert subst.read_bytes() != blocks.read_bytes()
    assert wasm_run(blocks).stdout == expected("fnptr")
    # A rewrite rate of 0 makes every variant a copy of the original: all dropped (none made
    # in wasm, which would copy the original instead).
    rep = report_of(bc["fnptr"], "--diversifier", "subst:rate=0", "--wasm-derived=0", "-o",
                    tmp_path / "x.wasm")
    assert rep["totals"]["variants"] == 0
    assert sum(f["dropped_duplicate"] for f in rep["functions"]) > 0


def test_diversifiers_repeat_in_order(bc, tmp_path):
    one, two = tmp_path / "1.wasm", tmp_path / "2.wasm"
    mewe(bc["fnptr"], "--diversifier", "subst", "--diversifier", "blocks", "-o", one)
    mewe(bc["fnptr"], "--diversifier", "blocks", "--diversifier", "subst", "-o", two)
    assert one.read_bytes() != two.read_bytes()


def test_allow_limits_to_matching_names(bc, tmp_path):
    rep = report_of(bc["fnptr"], "--allow", "cmp_*", "--allow", "pick", "-o",
                    tmp_path / "x.wasm")
    done = {f["name"] for f in rep["functions"] if f["status"] == "diversified"}
    assert done and all(n.startswith("cmp_") or n == "pick" for n in done)
    # pick is tried (its variants all compile alike: a chain of calls and compares).
    tried = {f["name"] for f in rep["functions"] if f.get("generated")}
    assert "pick" in tried
    out = {f["name"] for f in rep["functions"] if f.get("reason") == "not in the allow list"}
    assert "main" in out and not out & tried


def test_deny_everything_leaves_no_dispatcher(bc, tmp_path):
    rep = report_of(bc["fnptr"], "--deny", "*", "-o", tmp_path / "x.wasm")
    assert rep["totals"]["dispatchers"] == 0 and rep["totals"]["variants"] == 0


def test_deny_wins_over_allow(bc, tmp_path):
    rep = report_of(bc["fnptr"], "--allow", "cmp_*", "--deny", "cmp_asc", "-o",
                    tmp_path / "x.wasm")
    by_name = {f["name"]: f for f in rep["functions"]}
    assert by_name["cmp_asc"]["status"] == "skipped"
    assert by_name["cmp_desc"]["status"] == "diversified"


def test_min_instructions(bc, tmp_path):
    base = report_of(bc["fnptr"], "-o", tmp_path / "x.wasm")["totals"]["diversified"]
    more = report_of(bc["fnptr"], "--min-instructions", "1", "-o", tmp_path / "x.wasm")
    none = report_of(bc["fnptr"], "--min-instructions", "100000", "-o", tmp_path / "x.wasm")
    assert more["totals"]["diversified"] > base > 0
    assert none["totals"]["diversified"] == 0


def test_wasm_rounds(bc, tmp_path):
    """Every variant the report keeps is distinct in wasm: those LLVM made by generation's
    check (a small program is checked whole), those made in wasm in the output's "wasm"
    section; --wasm-rounds=0 turns the check, and its figures, off."""
    rep = report_of(bc["fnptr"], "-n", "8", "-o", tmp_path / "a.wasm")
    t = rep["totals"]
    made = [f for f in rep["functions"] if f["variants"] > 0]
    assert all(f["variants"] - f.get("wasm_derived", 0) == f.get("distinct_in_wasm")
               for f in made)
    assert any(f.get("wasm_derived") for f in made)
    assert t["distinct_in_wasm"] == t["variants"] - t["wasm_derived"]
    assert t["distinct_in_ir"] >= t["distinct_in_wasm"]
    assert rep["wasm"]["preservation"] == 1.0
    assert all(d["distinct_in_wasm"] == d["variants"] for d in rep["wasm"]["dispatchers"])
    assert 0 < t["wasm_difference_min"] <= t["wasm_difference_mean"] <= 1
    off = report_of(bc["fnptr"], "-n", "8", "--wasm-rounds", "0", "-o", tmp_path / "b.wasm")
    assert "distinct_in_wasm" not in off["totals"]


def test_attempts(bc, tmp_path):
    def drops(n):
        rep = report_of(bc["fnptr"], "--diversifier", "subst:rate=0", "--attempts", n, "-o",
                        tmp_path / "x.wasm")
        return sum(f["dropped_duplicate"] for f in rep["functions"])
    assert drops("10") > drops("1") > 0


def test_time_budget(bc, tmp_path):
    rep = report_of(bc["fnptr"], "--time-budget", "0.000000001", "-o", tmp_path / "x.wasm")
    assert rep["totals"]["time_budget_hit"] is True
    rep = report_of(bc["fnptr"], "--time-budget", "1000", "-o", tmp_path / "x.wasm")
    assert rep["totals"]["time_budget_hit"] is False and rep["totals"]["variants"] > 0


def test_size_budget(bc, tmp_path):
    free = report_of(bc["fnptr"], "-o", tmp_path / "x.wasm")["totals"]
    tight = report_of(bc["fnptr"], "--size-budget", "1", "-o", tmp_path / "x.wasm")["totals"]
    assert 0 < tight["variants"] < free["variants"]
    growth = tight["instructions_after"] - tight["instructions_before"]
    assert growth < free["instructions_after"] - free["instructions_before"]


def test_variants_from(bc, tmp_path):
    # main inlines calc_mix and calc_poly: the link drops them, and nothing is added.
    p = run([MEWE, bc["calc"], "-n", "0", "--variants-from", bc["calc_alt"], "-o",
             tmp_path / "v.wasm", "--report", "-"])
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    reasons = {f["name"]: f.get("reason") for f in rep["functions"]}
    assert reasons["calc_mix"] == reasons["calc_poly"] == "dropped by the link"
    # Exported, they stay, and take the other module's bodies as variants.
    p = run([MEWE, bc["calc"], "-n", "0", "--variants-from", bc["calc_alt"], "-o",
             tmp_path / "v.wasm", "--export", "calc_mix", "--export", "calc_poly",
             "--report", "-"])
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    added = {f["name"]: f["variants"] for f in rep["functions"]}
    assert added["calc_mix"] == 1 and added["calc_poly"] == 1
    assert rep["totals"]["dispatchers"] >= 2
    assert wasm_run(tmp_path / "v.wasm", "20").stdout == "calc: 20 18240\n"


# ------------------------------------------------------------------ dispatch options


def test_dispatch_table_fills_a_table(bc, tmp_path, default_wasm):
    table = tmp_path / "t.wasm"
    rep = report_of(bc["fnptr"], "--dispatch", "table", "-o", table)
    assert rep["link"]["dispatch"] == "table"
    assert table_functions(table) >= table_functions(default_wasm[0]) + \
        rep["totals"]["variants"]
    assert wasm_run(table).stdout == expected("fnptr")
    switch = tmp_path / "s.wasm"
    mewe(bc["fnptr"], "--dispatch", "switch", "-o", switch)
    assert switch.read_bytes() == default_wasm[0].read_bytes()


def test_granularity(bc, tmp_path):
    def variants_per_function(granularity, *flags):
        wasm, trace = tmp_path / f"{granularity}.wasm", tmp_path / f"{granularity}.trace"
        mewe(bc["fnptr"], "--trace", "--granularity", granularity, *flags, "-o", wasm)
        p = wasm_run(wasm, trace=trace)
        assert p.stdout == expected("fnptr"), p.stderr
        seen = {}
        for fn, variant in trace_pairs(trace):
            seen.setdefault(fn, set()).add(variant)
        return seen
    per_instance = variants_per_function("instance")
    # A budget that affords a fresh choice at every call.
    per_call = variants_per_function("call", "--max-overhead", "1e9")
    assert per_instance and all(len(v) == 1 for v in per_instance.values())
    assert any(len(v) > 1 for v in per_call.values())
    # --period 1: every call chooses again, as per call does.
    assert any(len(v) > 1 for v in variants_per_function("every", "--period", "1").values())
    assert variants_per_function("invocation")


def test_policies_in_the_report(bc, tmp_path):
    rep = report_of(bc["fnptr"], "--granularity", "every", "--period", "8",
                    "-o", tmp_path / "e.wasm")
    diversified = [f for f in rep["functions"] if f["status"] == "diversified"]
    assert diversified and all(f["policy"] == "every" and f["period"] == 8
                               for f in diversified)
    assert rep["link"]["granularity"] == "every" and rep["link"]["period"] == 8
    rep = report_of(bc["fnptr"], "--max-overhead", "1e9", "-o", tmp_path / "c.wasm")
    assert all(f["policy"] == "call" for f in rep["functions"] if "policy" in f)
    assert wasm_run(tmp_path / "c.wasm").stdout == expected("fnptr")
    rep = report_of(bc["fnptr"], "-o", tmp_path / "d.wasm")
    for f in rep["functions"]:
        if f["status"] == "diversified":
            assert f["layout"] in ("inline", "call") and f["policy_reason"], f
            assert f["estimated_overhead"] == pytest.approx(
                f["estimated_dispatch_cycles"] / f["estimated_cycles_per_call"]
                + f["estimated_variant_overhead"], abs=1e-3)


def test_trace_imports_the_recorder(bc, tmp_path, default_wasm):
    wasm, trace = tmp_path / "t.wasm", tmp_path / "t.txt"
    rep = report_of(bc["fnptr"], "--trace", "-o", wasm)
    assert rep["link"]["trace"] is True
    assert "mewe_trace.record" in imports(wasm)
    assert "mewe_trace.record" not in imports(default_wasm[0])
    assert wasm_run(wasm, trace=trace).returncode == 0
    ids = {fn for fn, _ in trace_pairs(trace)}
    assert ids and ids <= set(range(rep["totals"]["dispatchers"]))


def test_rng_host_imports_discriminate(bc, tmp_path):
    wasm = tmp_path / "h.wasm"
    mewe(bc["fnptr"], "--rng", "host", "-o", wasm)
    assert "env.discriminate" in imports(wasm)
    assert wasm_run(wasm).stdout == expected("fnptr")
    mewe(bc["fnptr"], "--rng", "host:module=mtd,name=pick_variant", "-o", wasm)
    assert "mtd.pick_variant" in imports(wasm) and "env.discriminate" not in imports(wasm)
    assert wasm_run(wasm, discriminate="mtd.pick_variant").stdout == expected("fnptr")


def test_rng_fixed_is_reproducible_and_wasi_is_not(bc, tmp_path):
    def traces(rng, runs=2):
        wasm = tmp_path / f"{rng}.wasm"
        mewe(bc["fnptr"], "--rng", rng, "--trace", "-o", wasm)
        out = []
        for i in range(runs):
            trace = tmp_path / f"{rng}.{i}.trace"
            assert wasm_run(wasm, trace=trace).returncode == 0
            out.append(trace.read_text())
        return out
    seven = traces("fixed:seed=7")
    assert seven[0] == seven[1]
    assert traces("fixed:seed=8", runs=1)[0] != seven[0]
    wasi = traces("wasi")
    assert wasi[0] != wasi[1]


# ------------------------------------------------------------------ emit options


def test_export_appears_in_the_export_section(bc, tmp_path):
    wasm = tmp_path / "r.wasm"
    mewe(bc["calc"], "--emit", "reactor", "--export", "calc_mix", "--export", "calc_poly",
         "-o", wasm)
    assert {"calc_mix", "calc_poly"} <= set(exports(wasm))
    p = wasm_run(wasm, "3", "4", invoke="calc_mix")
    assert p.returncode == 0 and p.stdout.strip() == str((3 ^ 4) + (3 & 4) * 3 - (4 | 5))
    mewe(bc["calc"], "-o", tmp_path / "c.wasm")
    assert "calc_mix" not in exports(tmp_path / "c.wasm")


@pytest.mark.parametrize("form", [["-lwasi-emulated-getpid"], ["-l", "wasi-emulated-getpid"]])
def test_l_links_a_library(bc, tmp_path, form):
    mewe_fails(bc["getpid"], "-o", tmp_path / "g.wasm", rc=1, says=["getpid"])
    mewe(bc["getpid"], *form, "-o", tmp_path / "g.wasm")
    assert wasm_run(tmp_path / "g.wasm").stdout == "pid ok: 1\n"


def test_l_names_the_library_to_wasm_ld(bc, tmp_path):
    mewe_fails(bc["calc"], "-lmewe-no-such-lib", "-o", tmp_path / "x.wasm", rc=1,
               says=["-lmewe-no-such-lib"])


def test_z_stack_size(bc, tmp_path):
    small, big = tmp_path / "small.wasm", tmp_path / "big.wasm"
    mewe(bc["bigstack"], "-o", small)
    mewe(bc["bigstack"], "-z", "stack-size=1048576", "-o", big)
    assert wasm_run(small).returncode != 0
    p = wasm_run(big)
    assert p.returncode == 0 and p.stdout == "stack ok: 128\n", p.stderr


def test_link_arg_is_passed_raw(bc, tmp_path):
    wasm = tmp_path / "x.wasm"
    mewe(bc["calc"], "--link-arg", "--export=calc_poly", "-o", wasm)
    assert "calc_poly" in exports(wasm)
    mewe(bc["bigstack"], "--link-arg=-zstack-size=1048576", "-o", wasm)
    assert wasm_run(wasm).returncode == 0


def test_opt_levels(bc, tmp_path):
    sizes = {}
    for level, args in (("0", ["-O0"]), ("1", ["-O", "1"]), ("2", ["--opt-level=2"]),
                        ("3", ["--opt-level", "3"])):
        wasm = tmp_path / f"o{level}.wasm"
        mewe(bc["fnptr"], *args, "-o", wasm)
        sizes[level] = wasm.read_bytes()
        assert wasm_run(wasm).stdout == expected("fnptr")
    assert len(sizes["0"]) > len(sizes["2"])
    mewe(bc["fnptr"], "-O2", "-o", tmp_path / "again.wasm")
    assert (tmp_path / "again.wasm").read_bytes() == sizes["2"]


# ------------------------------------------------------------------ toolchain options


def _logging_wasm_ld(tmp_path):
    """A wasm-ld that writes its arguments to a file, then runs the real one."""
    path = _toolchain(tmp_path)["wasm-ld"]
    log = tmp_path / "wasm-ld.log"
    script = tmp_path / "wasm-ld"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{log}"\nexec "{path}" "$@"\n')
    script.chmod(0o755)
    return script, log, path


def test_wasm_ld_flag_picks_the_linker(bc, tmp_path):
    script, log, _ = _logging_wasm_ld(tmp_path)
    mewe(bc["bigstack"], "--wasm-ld", script, "-z", "stack-size=1048576", "-o",
         tmp_path / "x.wasm")
    args = log.read_text().split("\n")
    assert "-z" in args and args[args.index("-z") + 1] == "stack-size=1048576"
    mewe_fails(bc["calc"], "--wasm-ld", tmp_path / "no-such-wasm-ld", "-o", tmp_path / "y.wasm",
               rc=1, says=["no-such-wasm-ld"])
    assert not (tmp_path / "y.wasm").exists()


def _toolchain(tmp_path):
    """The tools mewe links with by default, as -vv tells them."""
    text = mewe("-vv", "--stage=emit", DATA / "notriple.ll", "-o", tmp_path / "probe.wasm").stderr
    return dict(re.findall(r"mewe: debug: ([^:]+): (.*)", text))


def test_wasi_sysroot(bc, tmp_path):
    sysroot = _toolchain(tmp_path)["WASI sysroot"]
    mine = tmp_path / "sysroot"
    (mine / "lib").mkdir(parents=True)
    (mine / "lib" / "wasm32-wasi").symlink_to(pathlib.Path(sysroot) / "lib" / "wasm32-wasi")
    mewe(bc["calc"], "--wasi-sysroot", mine, "-o", tmp_path / "x.wasm")
    assert wasm_run(tmp_path / "x.wasm", "20").stdout == "calc: 20 18240\n"
    mewe_fails(bc["calc"], "--wasi-sysroot", tmp_path / "empty", "-o", tmp_path / "y.wasm",
               rc=1, says=["crt1-command.o"])
    assert not (tmp_path / "y.wasm").exists()


def test_builtins(bc, tmp_path):
    builtins = _toolchain(tmp_path)["builtins"]
    if builtins == "(none)":
        pytest.skip("this libmewe was built without the wasm builtins library")
    mewe(bc["calc"], "--builtins", builtins, "-o", tmp_path / "x.wasm")
    mewe_fails(bc["calc"], "--builtins", tmp_path / "libnone.a", "-o", tmp_path / "y.wasm",
               rc=1, says=["libnone.a"])


def _fake_sdk(tmp_path):
    """A wasi-sdk made of links to the toolchain libmewe was built with; its wasm-ld logs."""
    script, log, _ = _logging_wasm_ld(tmp_path)
    tools = _toolchain(tmp_path)
    sysroot, builtins = tools["WASI sysroot"], tools["builtins"]
    sdk = tmp_path / "sdk"
    (sdk / "bin").mkdir(parents=True)
    (sdk / "bin" / "wasm-ld").symlink_to(script)
    (sdk / "share" / "wasi-sysroot" / "lib").mkdir(parents=True)
    (sdk / "share" / "wasi-sysroot" / "lib" / "wasm32-wasi").symlink_to(
        pathlib.Path(sysroot) / "lib" / "wasm32-wasi")
    lib = sdk / "lib" / "clang" / "19" / "lib" / "wasi"
    lib.mkdir(parents=True)
    if builtins != "(none)":
        (lib / "libclang_rt.builtins-wasm32.a").symlink_to(builtins)
    else:
        (lib / "libclang_rt.builtins-wasm32.a").write_bytes(b"!<arch>\n")
    return sdk, log


def test_wasi_sdk_flag_and_environment(bc, tmp_path):
    sdk, log = _fake_sdk(tmp_path)
    mewe(bc["calc"], "--wasi-sdk", sdk, "-o", tmp_path / "a.wasm")
    assert log.exists()
    log.unlink()
    env = dict(os.environ, WASI_SDK_PATH=str(sdk))
    mewe(bc["calc"], "-o", tmp_path / "b.wasm", env=env)
    assert log.exists()
    assert wasm_run(tmp_path / "b.wasm", "20").stdout == "calc: 20 18240\n"
    # The flag wins over the environment.
    env = dict(os.environ, WASI_SDK_PATH=str(tmp_path / "no-such-sdk"))
    log.unlink()
    mewe(bc["calc"], "--wasi-sdk", sdk, "-o", tmp_path / "c.wasm", env=env)
    assert log.exists()
    p = mewe(bc["calc"], "-o", tmp_path / "d.wasm", env=env, rc=1)
    assert "WASI_SDK_PATH" in p.stderr and not (tmp_path / "d.wasm").exists()
    mewe_fails(bc["calc"], "--wasi-sdk", tmp_path / "no-such-sdk", "-o", tmp_path / "e.wasm",
               rc=2, says=["--wasi-sdk", "no-such-sdk"])


# ------------------------------------------------------------------ information


def test_list_diversifiers():
    p = mewe("--list-diversifiers")
    # "NAME [CLASS] description", then an indented line per parameter: "  KEY doc".
    heads = [line for line in p.stdout.splitlines() if not line.startswith(" ")]
    names = {line.split()[0]: line for line in heads}
    assert {"subst", "swap", "blocks", "layout"} <= set(names)
    for line in heads:
        assert line.split()[1] in ("[free]", "[cheap]", "[costly]", "[unspecified]"), line
        assert len(line.split(None, 2)) == 3, line
    assert names["swap"].split()[1] == "[free]"
    params = [line.split(None, 1) for line in p.stdout.splitlines() if line.startswith("  ")]
    assert ["rate", "in [0,1], default 0.6: share of add/sub/xor/or/and considered"] in params


def test_list_rng():
    p = mewe("--list-rng")
    names = {line.split()[0] for line in p.stdout.splitlines()}
    assert {"wasi", "host", "fixed"} <= names
    assert "discriminate" in p.stdout


def test_version():
    p = mewe("--version")
    assert re.match(r"mewe \d+\.\d+\.\d+ \(libmewe \d+\.\d+\.\d+\)\nLLVM \d+\.\d+", p.stdout)


def test_verbose_logs_and_quiet_silences(bc, tmp_path):
    p = mewe("-v", bc["fnptr"], "-o", tmp_path / "x.wasm")
    assert "mewe: info: loaded" in p.stderr and "mewe: info: wrote" in p.stderr
    assert "debug" not in p.stderr
    p = mewe("--verbose", "--verbose", bc["fnptr"], "-o", tmp_path / "x.wasm")
    assert "mewe: debug: wasm-ld: " in p.stderr
    # The library's warnings show by default and not with -q.
    p = mewe(DATA / "notriple.ll", "-o", tmp_path / "n.wasm")
    assert "mewe: warning:" in p.stderr and "no target triple" in p.stderr
    for quiet in ("-q", "--quiet"):
        p = mewe(quiet, "-v", DATA / "notriple.ll", "-o", tmp_path / "n.wasm")
        assert p.stderr == ""


def test_options_of_stages_that_do_not_run_are_flagged(bc, tmp_path):
    p = mewe(bc["fnptr"], "--stage", "emit", "-n", "5", "-o", tmp_path / "x.wasm")
    assert "warning: --variants has no effect" in p.stderr
    p = mewe(bc["fnptr"], "-q", "--stage", "emit", "-n", "5", "-o", tmp_path / "x.wasm")
    assert p.stderr == ""


# ------------------------------------------------------------------ --help and the man page


def _table_long_options():
    """The long options of the table that getopt_long is built from."""
    src = (TOOLS / "cli_options.c").read_text()
    found = re.findall(r'\{OPT_[A-Z_]+,\s*"([a-z0-9-]+)",', src)
    assert len(found) > 30
    return set(found)


def _help_options():
    """Long options named in the option column of --help, with whether they take a value."""
    out = {}
    for line in mewe("--help").stdout.splitlines():
        m = re.match(r"  (?:-\w, |    )--([a-z0-9-]+)(=\S+)?", line)
        if m:
            out[m.group(1)] = bool(m.group(2))
    return out


def test_help_lists_every_long_option():
    documented = _help_options()
    assert set(documented) == _table_long_options()
    # getopt knows each of them: a value may be refused, but never the option itself.
    for name, takes_value in documented.items():
        arg = f"--{name}=1" if takes_value else f"--{name}"
        p = run([MEWE, arg, "--help"])
        assert "unknown" not in p.stderr and "missing value" not in p.stderr, p.stderr
        assert p.returncode == 0 or p.stderr.startswith(f"mewe: --{name}: "), p.stderr
    assert "unknown" in mewe("--no-such-option", "--help", rc=2).stderr


def test_help_states_defaults_and_fits_80_columns():
    text = mewe("-h").stdout
    assert all(len(line) <= 80 for line in text.splitlines())
    for default in ("Default: 3.", "Default: switch.", "Default: call.", "Default: wasi.",
                    "Default: 0.", "Default: all.", "Default: 2."):
        assert default in text, default
    for short in ("-o, --output", "-n, --variants", "-l LIB", "-z OPT", "-O, --opt-level",
                  "-v, --verbose", "-q, --quiet", "-h, --help"):
        assert short in text, short


def _help_entries():
    """--help's option entries: name (long when there is one) -> the entry's text."""
    entries, current = {}, None
    for line in mewe("--help").stdout.split("\n\nExit status")[0].splitlines():
        m = re.match(r"  (?:-(\w)(?:, | )|    )(?:--([a-z0-9-]+))?", line)
        if m and (m.group(1) or m.group(2)):
            current = f"--{m.group(2)}" if m.group(2) else f"-{m.group(1)}"
            entries[current] = ""
        elif not line.startswith(" "):
            current = None
        if current:
            entries[current] += " " + line.strip()
    return entries


def test_help_gives_every_setting_its_default():
    entries = _help_entries()
    assert len(entries) == len(_table_long_options()) + 2  # -l and -z have no long form
    # Actions have no default, and -o none: it is required.
    no_default = {"--help", "--version", "--list-diversifiers", "--list-rng", "--output"}
    for name, text in entries.items():
        assert ("Default:" in text) == (name not in no_default), text


def test_man_page_mentions_every_long_option():
    if not MEWE_MAN:
        pytest.skip("MEWE_MAN not set")
    man = pathlib.Path(MEWE_MAN).read_text()
    assert man.startswith(".\\\"") and ".TH MEWE 1" in man
    for name in _table_long_options():
        assert "\\-\\-" + name.replace("-", "\\-") in man, name
    for short in "olnzOvqh":
        assert f"\\fB\\-{short}\\fR" in man, short
    if shutil.which("groff"):
        p = run(["groff", "-man", "-Tutf8", "-ww", "-z", MEWE_MAN])
        assert p.returncode == 0 and p.stderr == "", p.stderr


def test_man_page_lists_the_registered_built_ins():
    """The man page's lists are the registry's, as --list-diversifiers and --list-rng are:
    a new built-in needs no edit of the page's source."""
    if not MEWE_MAN:
        pytest.skip("MEWE_MAN not set")
    man = pathlib.Path(MEWE_MAN).read_text()
    for flag, section, end in (("--list-diversifiers", ".SH DIVERSIFIERS", ".SH RNG"),
                               ("--list-rng", ".SH RNG STRATEGIES", ".SH EXIT")):
        # Indented lines are a diversifier's parameters.
        listed = [line.split()[0] for line in mewe(flag).stdout.splitlines()
                  if not line.startswith(" ")]
        part = man.split(section, 1)[1].split(end, 1)[0]
        names = [n.replace("\\-", "-") for n in re.findall(r"^\\fB(\S+)\\fR$", part, re.M)]
        assert names == listed, part


# ------------------------------------------------------------------ usage errors


USAGE_ERRORS = [
    (["--no-such-flag"], ["--no-such-flag", "unknown"]),
    (["-x"], ["-x", "unknown option"]),
    (["--variants"], ["--variants", "missing value"]),
    (["-n"], ["-n", "missing value"]),
    (["-o"], ["-o", "missing value"]),
    (["--variants", "abc"], ["--variants", "'abc'", "not a whole number"]),
    (["-n", "-1"], ["--variants", "-1"]),
    (["-n", "65"], ["--variants", "65", "out of range"]),
    (["-n", "99999999999999999999999"], ["--variants", "out of range"]),
    (["--attempts", "0"], ["--attempts", "0", "out of range"]),
    (["--attempts", "101"], ["--attempts", "101"]),
    (["--wasm-rounds", "17"], ["--wasm-rounds", "17"]),
    (["--wasm-derived", "65"], ["--wasm-derived", "65", "out of range"]),
    (["--diversifier", "pad:max=0"], ["--diversifier", "max='0'"]),
    (["--diversifier", "opaque:max=2,max=3"], ["--diversifier", "'max' given twice"]),
    (["--min-instructions", "1.5"], ["--min-instructions", "1.5"]),
    (["--seed", "-3"], ["--seed", "-3"]),
    (["--seed", "0x"], ["--seed", "0x"]),
    (["--seed", "18446744073709551616"], ["--seed", "out of range"]),
    (["--time-budget", "soon"], ["--time-budget", "soon", "not a number"]),
    (["--time-budget", "-1"], ["--time-budget", "-1", "out of range"]),
    (["--time-budget", "inf"], ["--time-budget", "inf"]),
    (["--size-budget", "nan"], ["--size-budget", "nan"]),
    (["-O4"], ["--opt-level", "4"]),
    (["-Ofast"], ["--opt-level", "fast"]),
    (["--dispatch", "jump"], ["--dispatch", "jump", "switch|table"]),
    (["--granularity", "thread"], ["--granularity", "thread", "call|instance|every|invocation"]),
    (["--max-overhead", "0.5"], ["--max-overhead", "0.5", "out of range"]),
    (["--max-overhead", "cheap"], ["--max-overhead", "cheap", "not a number"]),
    (["--period", "0"], ["--period", "0", "out of range"]),
    (["--period", "16777217"], ["--period", "16777217", "out of range (1 to 16777216)"]),
    (["--inline-limit", "-3"], ["--inline-limit", "-3"]),
    (["--emit", "exe"], ["--emit", "exe"]),
    (["--stage", "optimize"], ["--stage", "optimize"]),
    (["--diversifier", "shuffle-all"], ["--diversifier", "shuffle-all", "unknown"]),
    (["--diversifier", "subst:rate=2"], ["--diversifier", "rate", "'2'"]),
    (["--diversifier", "subst:colour=red"], ["--diversifier", "colour"]),
    (["--diversifier", "subst:rate=0.2,rate=0.3"], ["--diversifier", "'rate' given twice"]),
    (["--rng", "dice"], ["--rng", "dice", "unknown"]),
    (["--rng", "fixed:seed=many"], ["--rng", "seed"]),
    (["--rng", "host:port=80"], ["--rng", "port"]),
    (["--report", ""], ["--report", "empty"]),
    (["--export", ""], ["--export", "empty"]),
]


@pytest.mark.parametrize("extra,says", USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_bad_flags_and_values(bc, tmp_path, extra, says):
    out = tmp_path / "x.wasm"
    p = mewe_fails(bc["fnptr"], "-o", out, *extra, rc=2, says=says)
    assert not out.exists()
    assert p.stdout == ""


def test_missing_output_or_input(bc, tmp_path):
    mewe_fails(bc["fnptr"], rc=2, says=["missing -o"])
    mewe_fails("-o", tmp_path / "x.wasm", rc=2, says=["no input"])
    mewe_fails(rc=2, says=["no input"])
    mewe_fails(bc["fnptr"], "-o", tmp_path / "x.exe", rc=2, says=["x.exe", "--emit"])
    mewe_fails(bc["fnptr"], "--emit", "ll", "-o", "-", rc=2, says=["-o", "standard output"])
    mewe_fails(bc["fnptr"], "--stage", "generate", "-o", tmp_path / "x.wasm", rc=2,
               says=["--stage=generate"])
    mewe_fails(bc["fnptr"], "--stage", "link", "-o", tmp_path / "x.o", rc=2,
               says=["--stage=link"])
    mewe_fails(bc["fnptr"], "--stage", "emit", "-o", tmp_path / "x.ll", rc=2,
               says=["--stage=emit"])
    mewe_fails(bc["fnptr"], "--stage", "report", "-o", tmp_path / "x.wasm", rc=2,
               says=["--stage=report"])
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ failures


def test_undefined_symbol_fails_without_output(bc, tmp_path):
    out = tmp_path / "u.wasm"
    mewe_fails(bc["undefined"], "-o", out, rc=1, says=["mewe_cli_missing_function"])
    assert not out.exists()
    assert not list(tmp_path.iterdir())


def test_corrupt_input_fails_without_output(tmp_path):
    bad = tmp_path / "bad.bc"
    bad.write_bytes(b"BC\xc0\xde" + b"\x17" * 64)
    out = tmp_path / "x.wasm"
    mewe_fails(bad, "-o", out, rc=1, says=["bad.bc"])
    assert not out.exists()
    mewe_fails(tmp_path / "missing.bc", "-o", out, rc=1, says=["missing.bc"])
    assert not out.exists()


def test_unwritable_output_directory(bc, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        # root writes through permissions, but not into /proc.
        where = locked if not os.access(locked, os.W_OK) else pathlib.Path("/proc")
        mewe_fails(bc["calc"], "-o", where / "mewe-cli-test.wasm", rc=1,
                   says=["mewe-cli-test.wasm"])
        assert not (where / "mewe-cli-test.wasm").exists()
        assert not list(locked.iterdir())
    finally:
        locked.chmod(0o755)
    mewe_fails(bc["calc"], "-o", tmp_path / "no" / "such" / "dir" / "x.wasm", rc=1,
               says=["x.wasm"])


def test_failure_keeps_an_existing_output_untouched(bc, tmp_path):
    out = tmp_path / "x.wasm"
    out.write_bytes(b"previous")
    mewe_fails(bc["undefined"], "-o", out, rc=1)
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.wasm"]


def test_failed_report_fails_the_run_without_output(bc, tmp_path):
    out = tmp_path / "x.wasm"
    mewe_fails(bc["calc"], "-o", out, "--report", tmp_path / "no" / "r.json", rc=1,
               says=["r.json"])
    assert not out.exists()


def test_export_of_a_missing_function_fails(bc, tmp_path):
    out = tmp_path / "x.wasm"
    mewe_fails(bc["calc"], "--export", "no_such_function", "-o", out, rc=1,
               says=["no_such_function"])
    assert not out.exists()


# ------------------------------------------------------------------ mewe-cc


@pytest.fixture
def cc_env(tmp_path):
    """mewe-cc's environment with TMPDIR in a directory of its own, to see it cleaned."""
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    return dict(os.environ, TMPDIR=str(tmp)), tmp


def mewe_cc(*args, env, rc=0):
    p = run([MEWE_CC, *args], env=env)
    assert p.returncode == rc, f"mewe-cc {' '.join(map(str, args))}: {p.returncode}\n{p.stderr}"
    if rc == 0:
        validate_outputs(args)
    return p


HELLO = ["-I", DATA / "include", "-DGREETING=\"Hello\"", DATA / "hello.c", DATA / "util.c"]


def test_mewe_cc_c_to_multivariant_wasm(tmp_path, cc_env):
    env, tmp = cc_env
    out = tmp_path / "hello.wasm"
    p = mewe_cc(*HELLO, "-o", out, "--report", "-", env=env)
    rep = json.loads(p.stdout)
    assert rep["totals"]["dispatchers"] > 0
    run_out = wasm_run(out).stdout
    assert run_out.startswith("Hello, multivariant world! (std ")
    assert "sum: " in run_out
    assert not list(tmp.iterdir())


def test_mewe_cc_clang_flags(tmp_path, cc_env):
    env, _ = cc_env
    out = tmp_path / "hello.wasm"
    mewe_cc(f"-I{DATA}/include", "-D", "GREETING=\"Hi\"", "-std=c99", DATA / "hello.c",
            DATA / "util.c", "-o", out, env=env)
    assert wasm_run(out).stdout.startswith("Hi, multivariant world! (std 199901)")
    mewe_cc(*HELLO, "--cflag", "-std=c11", "-o", out, env=env)
    assert "(std 201112)" in wasm_run(out).stdout


def test_mewe_cc_passes_other_flags_to_mewe(tmp_path, cc_env):
    env, tmp = cc_env
    a, b, c = (tmp_path / f"{n}.wasm" for n in "abc")
    mewe_cc(*HELLO, "--seed", "3", "-o", a, env=env)
    mewe_cc(*HELLO, "--seed", "4", "-o", b, env=env)
    mewe_cc("--seed", "3", *HELLO, "-o", c, env=env)
    assert a.read_bytes() != b.read_bytes() and a.read_bytes() == c.read_bytes()
    mewe_cc(*HELLO, "--trace", "--export", "util_sum", "-Wl,--export=greet_target", "-o", a,
            env=env)
    assert "mewe_trace.record" in imports(a)
    assert {"util_sum", "greet_target"} <= set(exports(a))
    assert not list(tmp.iterdir())


def test_mewe_cc_value_after_flag_is_not_a_source(tmp_path, cc_env):
    env, _ = cc_env
    # "--allow util.c" names a function pattern, never a C file to compile.
    p = mewe_cc(*HELLO, "--allow", "util.c", "-o", tmp_path / "h.wasm", "--report", "-",
                env=env)
    assert json.loads(p.stdout)["totals"]["dispatchers"] == 0


def test_mewe_cc_exit_status_is_mewes(tmp_path, cc_env):
    env, tmp = cc_env
    p = mewe_cc(*HELLO, "-n", "many", "-o", tmp_path / "x.wasm", env=env, rc=2)
    assert "mewe: --variants" in p.stderr
    p = mewe_cc(DATA / "hello.c", "-I", DATA / "include", "-DGREETING=\"x\"", "-o",
                tmp_path / "x.wasm", env=env, rc=1)
    assert "undefined symbol" in p.stderr
    assert not (tmp_path / "x.wasm").exists()
    assert not list(tmp.iterdir())


def test_mewe_cc_compile_error(tmp_path, cc_env):
    env, tmp = cc_env
    p = mewe_cc(DATA / "broken.c", "-o", tmp_path / "x.wasm", env=env, rc=1)
    assert "broken.c" in p.stderr
    assert not (tmp_path / "x.wasm").exists()
    assert not list(tmp.iterdir())
    mewe_cc(env=env, rc=2)
    mewe_cc("-I", env=env, rc=2)
    assert not list(tmp.iterdir())


def test_mewe_cc_finds_mewe_beside_itself(tmp_path, cc_env):
    env, _ = cc_env
    env = {k: v for k, v in env.items() if k != "MEWE"}
    here = tmp_path / "bin"
    here.mkdir()
    shutil.copy(MEWE_CC, here / "mewe-cc")
    (here / "mewe").symlink_to(pathlib.Path(MEWE).resolve())
    env["PATH"] = "/usr/bin:/bin"
    p = run(["/bin/sh", here / "mewe-cc", "--version"], env=env)
    assert p.returncode == 0 and p.stdout.startswith("mewe "), p.stderr


def test_mewe_cc_knows_which_mewe_options_take_a_value():
    script = pathlib.Path(MEWE_CC).read_text()
    listed = set(re.search(r"MEWE_VALUE_OPTIONS='([^']*)'", script).group(1).split())
    wanted = {f"--{name}" for name, value in _help_options().items() if value}
    for line in mewe("--help").stdout.splitlines():
        m = re.match(r"  -(\w)(?:, --\S+=\S+| \S+)", line)
        if m:
            wanted.add(f"-{m.group(1)}")
    assert listed == wanted


def test_mewe_cc_cxx_and_c_in_one_program(tmp_path, cc_env):
    """C++ files (every extension) in C++ mode with libc++, linked with C: -std= reaches only
    the language it names."""
    env, tmp = cc_env
    (tmp_path / "names.cc").write_text(
        '#include <algorithm>\n#include <string>\n#include <vector>\n'
        'static std::vector<std::string> names = {"pear", "fig", "apple"};\n'
        'extern "C" const char *first_name(void)\n'
        '{\n    std::sort(names.begin(), names.end());\n    return names[0].c_str();\n}\n')
    (tmp_path / "Count.C").write_text(
        '#include <map>\n#include <string>\nextern "C" int count_letters(const char *s)\n'
        '{\n    std::map<char, int> m;\n    for (; *s; s++) m[*s]++;\n'
        '    return (int)m.size();\n}\n')
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\nconst char *first_name(void);\nint count_letters(const char *);\n'
        'int main(void) { const char *f = first_name();\n'
        '  printf("%s %d %ld\\n", f, count_letters(f), (long)__STDC_VERSION__); return 0; }\n')
    out = tmp_path / "mixed.wasm"
    mewe_cc(tmp_path / "main.c", tmp_path / "names.cc", tmp_path / "Count.C", "-std=c99",
            "-std=c++20", "-o", out, env=env)
    assert wasm_run(out).stdout == "apple 4 199901\n"
    assert not list(tmp.iterdir())


def test_mewe_cc_cxx_objects_link_their_runtime(tmp_path, cc_env):
    """Objects compiled from C++ one by one (mewe-cc -c) link with libc++ and libc++abi
    without being told: their undefined symbols say they need them."""
    env, tmp = cc_env
    (tmp_path / "greet.cc").write_text(
        '#include <string>\nstd::string greet(const std::string &who)\n'
        '{\n    return "hello, " + who + "!";\n}\n')
    (tmp_path / "main.cc").write_text(
        '#include <cstdio>\n#include <string>\n#include <vector>\n'
        'std::string greet(const std::string &who);\n'
        'int main()\n{\n    std::vector<std::string> names{"edge", "wasm"};\n'
        '    for (auto &n : names)\n        std::puts(greet(n).c_str());\n    return 0;\n}\n')
    for name in ("greet", "main"):
        mewe_cc("-c", tmp_path / f"{name}.cc", "-o", tmp_path / f"{name}.o", env=env)
    out = tmp_path / "app.wasm"
    mewe_cc(tmp_path / "main.o", tmp_path / "greet.o", "-o", out, env=env)
    assert wasm_run(out).stdout == "hello, edge!\nhello, wasm!\n"
    assert not list(tmp.iterdir())


def test_mewe_cc_cxx_exceptions_are_named(tmp_path, cc_env):
    env, tmp = cc_env
    src = tmp_path / "bad.cpp"
    src.write_text("int f(int x)\n{\n    try {\n        if (x) throw 1;\n    } catch (int) {\n"
                   "    }\n    return 0;\n}\nint main() { return f(0); }\n")
    p = mewe_cc(src, "-o", tmp_path / "bad.wasm", env=env, rc=1)
    assert "'bad.cpp' uses C++ exceptions" not in p.stderr  # the path is named as given
    assert f"'{src}' uses C++ exceptions" in p.stderr
    assert f"{src}:3:5: 'try'" in p.stderr and f"{src}:4:16: 'throw'" in p.stderr
    assert not (tmp_path / "bad.wasm").exists()
    assert not list(tmp.iterdir())


RUST_FIXTURE = FIXTURES / "rust" / "hello.rs"


def need_debian_rustc():
    if not os.access("/usr/bin/rustc", os.X_OK):
        pytest.skip("Debian's rustc is not installed (apt-get install rustc "
                    "libstd-rust-dev-wasm32)")


def fake_rustc(directory, llvm):
    """A rustc that only answers -vV, as one built on LLVM `llvm` would."""
    directory.mkdir(exist_ok=True)
    path = directory / "rustc"
    path.write_text(f"#!/bin/sh\necho 'rustc 9.99.0'\n"
                    f"[ \"$1\" = -vV ] && echo 'LLVM version: {llvm}'\nexit 0\n")
    path.chmod(0o755)
    return path


def test_mewe_cc_rust_file(tmp_path, cc_env):
    need_debian_rustc()
    env, tmp = cc_env
    out = tmp_path / "hello.wasm"
    p = mewe_cc(RUST_FIXTURE, "--edition=2018", "-o", out, "--report", "-", env=env)
    assert json.loads(p.stdout)["totals"]["diversified"] > 10
    assert wasm_run(out).stdout == (FIXTURES / "rust" / "hello.expected").read_text()
    assert not list(tmp.iterdir())


def test_mewe_cc_skips_a_rustc_too_new_for_libmewe(tmp_path, cc_env):
    """A rustup rustc first on PATH whose LLVM is newer than libmewe's is passed over for
    Debian's; when it is the only one (RUSTC), the error says what to install."""
    need_debian_rustc()
    env, _ = cc_env
    new = fake_rustc(tmp_path / "rustup", "99.1.0")
    env = dict(env, PATH=f"{new.parent}:/usr/bin:/bin")
    env.pop("RUSTC", None)
    p = run([MEWE_CC, "--print-rust"], env=env)
    assert p.returncode == 0 and p.stdout.split("\n")[0] == "/usr/bin/rustc", p.stderr
    assert p.stdout.split("\n")[1] in ("wasm32-wasi", "wasm32-wasip1")
    env["RUSTC"] = str(new)
    out = tmp_path / "x.wasm"
    p = mewe_cc(RUST_FIXTURE, "-o", out, env=env, rc=1)
    assert f"{new}: rustc 9.99.0, LLVM 99.1.0" in p.stderr
    assert "apt-get install rustc libstd-rust-dev-wasm32" in p.stderr
    assert not out.exists()
    # An LLVM as old as libmewe's is fine, but this one has no wasm std.
    env["RUSTC"] = str(fake_rustc(tmp_path / "old", "14.0.6"))
    p = mewe_cc(RUST_FIXTURE, "-o", out, env=env, rc=1)
    assert "no standard library for wasm32-wasi" in p.stderr


def test_cargo_mewe_usage_and_rustc_errors(tmp_path, cc_env):
    """cargo mewe: unknown commands and target selections are usage errors; a crate built
    with a rustc that is too new fails with what to install, before cargo runs."""
    env, _ = cc_env
    for args, says in ((["mewe"], "no command"), (["mewe", "frobnicate"], "'frobnicate'"),
                       (["mewe", "build", "--lib"], "--lib"),
                       (["mewe", "build", "--target", "x86_64-unknown-linux-gnu"], "--target")):
        p = run([CARGO_MEWE, *args], env=env)
        assert p.returncode == 2 and says in p.stderr, (args, p.stderr)
    p = run([CARGO_MEWE, "mewe", "--help"], env=env)
    assert p.returncode == 0 and "cargo mewe build" in p.stdout
    env = dict(env, RUSTC=str(fake_rustc(tmp_path / "new", "99.1.0")))
    crate = tmp_path / "crate"
    shutil.copytree(SRCDIR.parent / "examples" / "rust", crate,
                    ignore=shutil.ignore_patterns("target"))
    p = run([CARGO_MEWE, "mewe", "build", "--manifest-path", crate / "Cargo.toml"], env=env)
    assert p.returncode == 1, p.stderr
    assert "LLVM 99.1.0" in p.stderr and "apt-get install rustc" in p.stderr
    assert not (crate / "target").exists()


def test_mewe_cc_help():
    p = run([MEWE_CC, "--help"])
    assert p.returncode == 0 and "usage: mewe-cc" in p.stdout


# ------------------------------------------------------------------ profiles


def test_profile_gen_then_profile(bc, tmp_path):
    prof_wasm = tmp_path / "prof.wasm"
    mewe(bc["fnptr"], "--profile-gen", "-o", prof_wasm)
    p = wasm_run(prof_wasm)
    assert p.returncode == 0 and p.stdout == expected("fnptr"), p.stderr
    lines = [line for line in p.stderr.splitlines() if line.startswith("mewe-profile ")]
    assert lines[0] == "mewe-profile 1" and lines[-1].startswith("mewe-profile end ")
    profile = tmp_path / "fnptr.profile"
    profile.write_text("the program's own stderr line\n" + p.stderr)
    wasm = tmp_path / "mv.wasm"
    rep = report_of(bc["fnptr"], "--profile", profile, "-o", wasm)
    assert wasm_run(wasm).stdout == expected("fnptr")
    prof = rep["link"]["profile"]
    assert prof["unmatched"] == 0 and prof["functions"] == len(lines) - 2 - sum(
        line.startswith("mewe-profile site ") for line in lines)
    diversified = [f for f in rep["functions"] if f["status"] == "diversified"]
    assert diversified and all("profile_calls" in f for f in diversified)


def test_profile_errors(bc, tmp_path):
    bad = tmp_path / "bad.profile"
    bad.write_text("mewe-profile 1\nmewe-profile fn 3 main\n")
    mewe_fails(bc["fnptr"], "--profile", bad, "-o", tmp_path / "x.wasm", rc=1,
               says=("--profile", "bad.profile", "cut short"))
    assert not (tmp_path / "x.wasm").exists()
    mewe_fails(bc["fnptr"], "--profile", tmp_path / "none", "-o", tmp_path / "x.wasm", rc=1,
               says=("--profile", "none"))
    other = tmp_path / "other.profile"
    other.write_text("mewe-profile 1\nmewe-profile fn 3 elsewhere\nmewe-profile end 1\n")
    mewe_fails(bc["fnptr"], "--profile", other, "-o", tmp_path / "x.wasm", rc=2,
               says=("--profile", "none of its 1 functions"))
    assert not (tmp_path / "x.wasm").exists()
    mewe_fails(bc["fnptr"], "--profile-gen", "-o", tmp_path / "x.bc", rc=2,
               says=("--profile-gen", "--stage=all"))
    mewe_fails(bc["fnptr"], "--profile-gen", "--profile", other, "-o", tmp_path / "x.wasm",
               rc=2, says=("--profile",))


# ------------------------------------------------------------------ threads and per-file builds


def test_jobs(tmp_path, bc):
    """-j N: the same bytes for every N (a small module is one partition; tests/test-codegen.c
    splits modules); 0 and non-numbers are usage errors that leave no output."""
    outs = []
    for n in ("1", "2", "8"):
        out = tmp_path / f"j{n}.wasm"
        mewe(bc["fnptr"], "-o", out, "-j", n, "--seed", "3")
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    assert wasm_run(tmp_path / "j2.wasm").stdout == expected("fnptr")
    for bad, says in (("0", "--jobs: 0 is out of range"), ("x", "--jobs: 'x' is not a whole")):
        mewe_fails(bc["fnptr"], "-o", tmp_path / "bad.wasm", "-j", bad, rc=2, says=[says])
        assert not (tmp_path / "bad.wasm").exists()


def test_objects_link(tmp_path, bc):
    """mewe given objects links them: a per-file build's second half. Objects of other
    settings, files that are not objects, and an object output are refused by name."""
    a, b = tmp_path / "a.o", tmp_path / "b.o"
    mewe(bc["fnptr"], "-o", a, "--seed", "1")
    mewe(bc["loops"], "-o", b, "--seed", "1", "--granularity=instance")
    out = tmp_path / "a.wasm"
    doc = json.loads(mewe(a, "-o", out, "--report", "-").stdout)
    assert [o["object"] for o in doc["objects"]] == [str(a)]
    assert doc["totals"]["dispatchers"] > 0
    assert wasm_run(out).stdout == expected("fnptr")
    mewe_fails(a, b, "-o", tmp_path / "x.wasm", rc=1,
               says=["b.o' was made with other settings than", "a.o'"])
    mewe_fails(a, bc["loops"], "-o", tmp_path / "x.wasm", rc=2,
               says=["is not a WebAssembly object, but"])
    mewe_fails(a, "-o", tmp_path / "x.o", rc=2, says=["objects link into a WASI command"])
    assert not (tmp_path / "x.wasm").exists() and not (tmp_path / "x.o").exists()
