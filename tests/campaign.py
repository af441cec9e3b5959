"""What the random-program campaigns (tests/csmith, tests/stress) share: which seeds a run
covers and where it works."""

import pathlib
import tempfile


def parse_seeds(text):
    """'1,5-7' -> [1, 5, 6, 7]."""
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    return seeds


def add_seed_options(ap, start, configs):
    """The options every campaign takes to choose its seeds and working directory."""
    ap.add_argument("--ci", action="store_true", help="the fixed set that CI runs")
    ap.add_argument("--seeds", help="seeds, e.g. 1-50,193")
    ap.add_argument("--start", type=int, default=start, help="first seed with --count")
    ap.add_argument("--count", type=int, default=0, help="seeds from --start on")
    ap.add_argument("--configs", type=int, default=configs, help="settings per seed")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=pathlib.Path, help="work directory (default: a temporary "
                    "one; failures are kept under OUT/failures)")
    ap.add_argument("--keep", action="store_true", help="keep every build, not only failures")


def seeds_and_configs(ap, args, ci_seeds, ci_configs):
    """The seeds and settings per seed that the command line asks for."""
    if args.ci:
        return ci_seeds, ci_configs
    if args.seeds:
        return parse_seeds(args.seeds), args.configs
    if args.count:
        return list(range(args.start, args.start + args.count)), args.configs
    ap.error("give --ci, --seeds or --count")
    return None


def workdir(args, prefix):
    """(directory, temporary handle or None): --out, else a temporary directory that lives
    as long as the handle."""
    if args.out:
        out = args.out.resolve()
        out.mkdir(parents=True, exist_ok=True)
        return out, None
    tmp = tempfile.TemporaryDirectory(prefix=prefix)
    return pathlib.Path(tmp.name), tmp
