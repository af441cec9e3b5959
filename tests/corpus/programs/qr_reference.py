#!/usr/bin/python3
"""Regenerates the reference symbols of qr.c with segno, an independent QR-code encoder.

qr.c's self-test compares its symbols with the table between "BEGIN REFERENCE" and
"END REFERENCE"; this script rewrites that table in place (or prints it with --print).
With --symbols it also writes the whole symbols that test_corpus.py compares module by
module (tests/corpus/data/qr-*.txt, in the text form of `qr encode`). Optionally (--zbar)
each symbol is also rendered to an image and decoded with zbarimg, a
third implementation, to check that the references themselves are readable.

This is a maintainer's tool, not a test: the corpus tests only build and run qr.c, so they
need neither segno nor zbar. Debian: apt-get install python3-segno zbar-tools python3-pil.
"""

import argparse
import pathlib
import re
import subprocess
import sys
import tempfile

import segno
from segno import consts, encoder

QR_C = pathlib.Path(__file__).with_name("qr.c")
DATA = pathlib.Path(__file__).resolve().parents[1] / "data"
# (level, text, file): the symbols of test_qr_symbol in test_corpus.py.
SYMBOLS = [
    ("M", "HELLO WORLD", "qr-hello-world-M.txt"),
    ("L", "MEWE: Multi-Variant Execution at the Edge. libmewe turns LLVM bitcode into "
          "multivariant WebAssembly, one dispatcher per function, a fresh variant per call.",
     "qr-mewe-L.txt"),
]
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
PANGRAM = "The quick brown fox jumps over the lazy dog; MEWE serves it at the edge. "
LEVELS = "LMQH"
SEGNO_LEVEL = {"L": consts.ERROR_LEVEL_L, "M": consts.ERROR_LEVEL_M,
               "Q": consts.ERROR_LEVEL_Q, "H": consts.ERROR_LEVEL_H}
PATTERNS = ["P_DIGITS", "P_ALNUM", "P_TEXT", "P_BINARY"]


def _write_padding_bits(buff, version, length):
    """segno 1.4.1 adds a whole zero byte when the terminator already ends on a byte
    boundary (ISO/IEC 18004:2015 7.4.10 adds padding bits only "if the bit stream length is
    such that it does not end at a codeword boundary"). The symbol still decodes, but it is
    not the standard's; this is segno's function with that fixed."""
    if version not in (consts.VERSION_M1, consts.VERSION_M3):
        buff.extend([0] * ((8 - length % 8) % 8))


encoder.write_padding_bits = _write_padding_bits


def make_text(pattern, length):
    """The same inputs as make_text() in qr.c."""
    if pattern == "P_DIGITS":
        return bytes(ord("0") + (i * 7 + 3) % 10 for i in range(length))
    if pattern == "P_ALNUM":
        return bytes(ord(ALNUM[(i * 11 + 5) % 45]) for i in range(length))
    if pattern == "P_TEXT":
        return bytes(ord(PANGRAM[i % len(PANGRAM)]) for i in range(length))
    return bytes((i * 37 + 11) & 0xFF for i in range(length))


def count_bits(mode, version):
    row = {"P_DIGITS": (10, 12, 14), "P_ALNUM": (9, 11, 13)}.get(mode, (8, 16, 16))
    return row[0 if version <= 9 else 1 if version <= 26 else 2]


def max_length(pattern, version, level):
    """The longest input of this pattern that fits version/level, from segno's capacity."""
    bits = consts.SYMBOL_CAPACITY[version][SEGNO_LEVEL[level]] - 4 - count_bits(pattern, version)
    if pattern == "P_DIGITS":
        return bits // 10 * 3 + (2 if bits % 10 >= 7 else 1 if bits % 10 >= 4 else 0)
    if pattern == "P_ALNUM":
        return bits // 11 * 2 + (1 if bits % 11 >= 6 else 0)
    return bits // 8


def cases():
    """Every version at every level with the longest text that fits (so each case lands
    exactly on its version), the mode boundaries of the character count, and a few
    short inputs."""
    out = []
    for level in LEVELS:
        for version in range(1, 41):
            out.append(("P_TEXT", max_length("P_TEXT", version, level), level))
    for version in (1, 9, 10, 26, 27):
        out.append(("P_DIGITS", max_length("P_DIGITS", version, "M"), "M"))
        out.append(("P_ALNUM", max_length("P_ALNUM", version, "Q"), "Q"))
    for length, level in ((1, "L"), (1, "H"), (10, "M"), (100, "Q"), (1000, "L"), (300, "H")):
        out.append(("P_BINARY", length, level))
    for length in (1, 2, 3, 4, 5, 17, 41):
        out.append(("P_DIGITS", length, "L"))
        out.append(("P_ALNUM", length, "H"))
    return out


def text_form(code):
    return "".join("".join("#" if m else "." for m in row) + "\n" for row in code.matrix)


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def zbar_decodes(code, text):
    with tempfile.TemporaryDirectory() as tmp:
        png = pathlib.Path(tmp) / "qr.png"
        code.save(str(png), scale=4, border=4)
        p = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sbinary", str(png)],
                           capture_output=True, check=False)
        return p.returncode == 0 and p.stdout.rstrip(b"\n") == text


def write_symbols(check_zbar):
    DATA.mkdir(exist_ok=True)
    for level, text, name in SYMBOLS:
        code = segno.make(text.encode(), error=level, boost_error=False, micro=False)
        if check_zbar and not zbar_decodes(code, text.encode()):
            sys.exit(f"zbarimg cannot read segno's symbol of {text!r}")
        header = f"version {code.version} level {level} mask {code.mask} mode {code.mode}\n"
        (DATA / name).write_text(header + text_form(code))
        print(f"{DATA / name}: version {code.version}-{level}")


def table(check_zbar):
    lines = []
    for pattern, length, level in cases():
        text = make_text(pattern, length)
        code = segno.make(text, error=level, boost_error=False, micro=False)
        if check_zbar and not zbar_decodes(code, text):
            sys.exit(f"zbarimg cannot read segno's symbol for {pattern} {length} {level}")
        h = fnv1a(text_form(code).encode())
        lines.append(f"    {{{pattern}, {length}, ECL_{level}, {code.version}, {code.mask}, "
                     f"0x{h:016x}ull}},")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--print", action="store_true", help="print the table, change nothing")
    ap.add_argument("--zbar", action="store_true", help="also decode every symbol with zbarimg")
    ap.add_argument("--symbols", action="store_true",
                    help="also write the whole symbols of tests/corpus/data")
    args = ap.parse_args()
    if args.symbols:
        write_symbols(args.zbar)
    body = table(args.zbar)
    if args.print:
        sys.stdout.write(body)
        return
    source = QR_C.read_text()
    new, n = re.subn(r"(/\* BEGIN REFERENCE \*/\n).*?(/\* END REFERENCE \*/)",
                     lambda m: m.group(1) + body + m.group(2), source, flags=re.S)
    if n != 1:
        sys.exit("qr.c has no BEGIN/END REFERENCE markers")
    QR_C.write_text(new)
    print(f"{QR_C}: {len(cases())} reference symbols (segno {segno.__version__})")


if __name__ == "__main__":
    main()
