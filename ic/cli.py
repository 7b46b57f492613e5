"""Command line of the study: which results exist, rerunning the missing ones, speed benchmarks.

Run python -m ic COMMAND --help for a command's options. Examples:

  python -m ic status                                   jobs done / missing of the paper profile, per study
  python -m ic reproduce --profile smoke                seconds to minutes: checks the whole pipeline
  python -m ic reproduce --profile cpu --only cgan --budget 2h --threads 1 --no-progress
  python -m ic bench lstm
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shlex
import sys
import textwrap

from . import paths, runner

#: exit status of an ordinary mistake (unknown study or profile, unreadable budget, missing dataset, ...)
USAGE_ERROR = 2
#: exit status of ``reproduce`` when the budget is too small for any missing job
NOTHING_FITS = 3
#: exit status after Ctrl-C (128 + SIGINT)
INTERRUPTED = 130

WIDTH = 110


class Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line that names the fix, with exit status 2."""

    def error(self, message: str):
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


# ------------------------------------------------------------------------------------------------ help texts

def _plain(text: str) -> str:
    """Docstring text without reStructuredText markup (``code``, :role:`target`) on one line."""
    text = re.sub(r":\w+:`~?([^`]*)`", r"\1", text)
    return " ".join(text.replace("``", "").replace("`", "").split())


def profile_summaries(study: str) -> dict[str, str]:
    """Profile name → the first sentence of its bullet (``* ``name`` — text``) in the study's profiles module."""
    doc = runner.profiles_module(study).__doc__ or ""
    bullets = re.finditer(r"^\* ``(\w+)``\s*—\s*(.+?)(?=^\* ``|^\s*$|\Z)", doc, re.M | re.S)
    return {m.group(1): re.split(r"(?<=[.])\s+(?=[A-Z])", _plain(m.group(2)))[0] for m in bullets}


def _wrapped(label: str, text: str, indent: int) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=f"  {label:<{indent - 2}}", subsequent_indent=" " * indent)


def profiles_help() -> str:
    lines = ["Studies (--only NAME[,NAME]) and their profiles (--profile NAME):"]
    for study in runner.STUDY_MODULES:
        summaries = profile_summaries(study)
        for p in runner.study_profiles(study):
            lines.append(_wrapped(f"{study} {p}", summaries.get(p, ""), 16))
    lines.append(textwrap.fill(
        "Profile smoke writes to the untracked cache (<IC_CACHE_DIR>/results-smoke); every other profile reads and "
        "writes the committed results store (<IC_RESULTS_DIR>). Without --only, a command takes every study that "
        "has the profile.", WIDTH, initial_indent="  ", subsequent_indent="  "))
    return "\n".join(lines)


def benchmarks_help() -> str:
    from .bench import REGISTRY

    return "\n".join(["Benchmarks (python -m ic bench NAME):",
                      *(_wrapped(name, description, 16) for name, (_, _, description) in REGISTRY.items())])


def variables_help() -> str:
    now = {"IC_DATA_DIR": ("dataset root", paths.data_root()),
           "IC_RESULTS_DIR": ("committed results store", paths.results_root()),
           "IC_CACHE_DIR": ("untracked cache: trained weights, smoke results", paths.cache_root()),
           "IC_DEVICE": ("auto (CUDA if present, else CPU) | cpu | cuda | cuda:N | mps",
                         os.environ.get("IC_DEVICE") or "auto")}
    return "\n".join(["Environment variables:",
                      *(_wrapped(name, f"{what} (now: {value})", 18) for name, (what, value) in now.items())])


STATUS_TEXT = ("Per study: jobs done and missing for a profile, the wall hours they took and the "
               "wall hours the missing ones are expected to take on this machine. Reads the "
               "results store only (no dataset is loaded).")
REPRODUCE_TEXT = ("Run the missing jobs of a profile in plan order (the jobs a job needs first). A "
                  "result is written atomically when its job ends, so a stopped run (budget, "
                  "Ctrl-C, a killed process) resumes with the same command.")
BENCH_TEXT = ("Measure a study's kernels at production shapes: achieved GFLOP/s, the fraction "
              "of a matmul peak measured in the same run, the speed-up over the source-style "
              "loop. Prints a table and writes a JSON record to benchmarks/.")
EXIT_HELP = (f"Exit status: 0 done; {USAGE_ERROR} a mistake in what was asked or a missing dataset (one line that "
             f"names the fix; --debug shows the traceback); {NOTHING_FITS} reproduce ran nothing because no missing "
             f"job fits the budget; {INTERRUPTED} interrupted (Ctrl-C; rerun the same command to resume).")


def _fill(text: str) -> str:
    return textwrap.fill(text, WIDTH)


def _epilog(*parts: str) -> str:
    return "\n\n".join([*parts, _fill(EXIT_HELP)])


# ----------------------------------------------------------------------------------------------------- parser

def build_parser() -> Parser:
    from .bench import REGISTRY as BENCHMARKS

    raw = argparse.RawDescriptionHelpFormatter
    parser = Parser(prog="python -m ic", description=__doc__, formatter_class=raw,
                    epilog=_epilog(profiles_help(), benchmarks_help(), variables_help()))
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of an error instead of its one-line message")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="show the full traceback of an error instead of its one-line message")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND")
    studies = ", ".join(runner.STUDY_MODULES)
    profiles = runner.describe_profiles()

    p = sub.add_parser("status", parents=[debug], formatter_class=raw, help="which results exist, which are missing",
                       description=_fill(STATUS_TEXT),
                       epilog=_epilog(profiles_help(), variables_help()))
    p.add_argument("--profile", default="paper", help=f"one of {profiles} (default: paper)")
    p.add_argument("--only", metavar="STUDY[,STUDY]", help=f"only these studies: {studies}")

    p = sub.add_parser("reproduce", parents=[debug], formatter_class=raw,
                       help="run the missing jobs of a profile, resumably, within a budget",
                       description=_fill(REPRODUCE_TEXT),
                       epilog=_epilog(profiles_help(), variables_help()))
    p.add_argument("--profile", default="smoke", help=f"one of {profiles} (default: smoke)")
    p.add_argument("--only", metavar="STUDY[,STUDY]", help=f"only these studies: {studies}")
    p.add_argument("--budget", help="wall-time budget, e.g. 45m, 2h, 1h30m or seconds; a job starts only if its "
                                    "expected wall time fits in what is left (default: no limit)")
    p.add_argument("--device", help="auto | cpu | cuda | cuda:N | mps (default: $IC_DEVICE, else auto)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar: one timestamped line per job started and finished (for background runs)")
    p.add_argument("--shard", metavar="I/N", help="run only shard I of N (0 <= I < N; start N processes to use N "
                                                  "cores; a model and the jobs that use it stay in one shard)")
    p.add_argument("--threads", type=int, metavar="N", help="torch CPU threads of this process (e.g. 1 beside "
                                                            "another process on a 2-core machine)")
    p.add_argument("--part", metavar="GLOB[,GLOB]",
                   help="only the jobs of these parts of a study (glob patterns on the part names, e.g. "
                        "'*nz=10' for one GAN's training and its Table 1 runs; a wrong name lists the parts)")

    p = sub.add_parser("bench", parents=[debug], formatter_class=raw,
                       help="speed benchmarks against the same-run matmul peak (JSON record to benchmarks/)",
                       description=_fill(BENCH_TEXT),
                       epilog=_epilog(benchmarks_help(), variables_help()))
    p.add_argument("what", metavar="NAME", choices=list(BENCHMARKS), help=f"one of {', '.join(BENCHMARKS)}")
    p.add_argument("--device", help="auto | cpu | cuda (default: $IC_DEVICE, else auto)")
    p.add_argument("--seconds", type=float, default=5.0, help="time per measurement (default: 5)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="torch CPU threads (default: torch's choice; 1 on a shared machine)")
    return parser


# ------------------------------------------------------------------------------------------------------- main

def _device(preference: str | None):
    """The device, or a UsageError for an unknown or unavailable one (argument or IC_DEVICE)."""
    try:
        return runner.choose_device(preference)
    except (ValueError, RuntimeError) as exc:
        hint = "" if "IC_DEVICE" in str(exc) else " (the argument --device, else the variable IC_DEVICE)"
        raise runner.UsageError(f"{exc}{hint}") from exc


def _run(args) -> int:
    if args.command == "status":
        runner.select_studies(args.only, args.profile)
        _device(None)
        runner.status(args.profile, args.only)
    elif args.command == "reproduce":
        runner.parse_budget(args.budget)
        runner.parse_shard(args.shard)
        runner.select_parts(runner.select_studies(args.only, args.profile), args.profile, args.part)
        _device(args.device)
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        summary = runner.reproduce(args.profile, args.only, args.budget, args.device,
                                   progress=not args.no_progress, shard=args.shard, parts=args.part)
        if summary["failed"]:
            return 1
        return 0 if summary["ran"] or not summary["stopped_at_budget"] else NOTHING_FITS
    elif args.command == "bench":
        from . import bench

        _device(args.device)
        bench.run(args.what, device=args.device, seconds=args.seconds, threads=args.threads)
    return 0


def _python() -> str:
    """How this Python is called from the current folder: e.g. .venv/bin/python inside the clone, else python."""
    rel = os.path.relpath(sys.executable)
    return rel if not rel.startswith("..") else "python"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from .data.files import DataError

    try:
        return _run(args)
    except runner.Interrupted as stop:
        print(f"\nInterrupted: {stop.kept} result{'s' if stop.kept != 1 else ''} computed in this run "
              f"{'were' if stop.kept != 1 else 'was'} kept in {stop.store_root} (the job that was running left "
              f"nothing behind). Run the same command again to resume: {_python()} -m ic {shlex.join(argv)}",
              file=sys.stderr)
        return INTERRUPTED
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return INTERRUPTED
    except (runner.UsageError, DataError) as exc:
        if args.debug:
            raise
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
