"""Command line: ``python -m ic status | reproduce | bench``."""

from __future__ import annotations

import argparse
import logging
import sys



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ic", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("status", help="jobs done / missing and CPU time, per study")
    p.add_argument("--profile", default="paper", help="smoke | paper | a study's own (cgan: cpu)")
    p.add_argument("--only", help="comma-separated study names")

    p = sub.add_parser("reproduce", help="run the missing jobs of a profile, resumably, within a budget")
    p.add_argument("--profile", default="smoke", help="smoke | paper | a study's own (cgan: cpu)")
    p.add_argument("--only", help="comma-separated study names")
    p.add_argument("--budget", help="wall-time budget, e.g. 45m, 2h, 1h30m (default: none)")
    p.add_argument("--device", help="auto | cpu | cuda | cuda:N | mps (default: $IC_DEVICE or auto)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar: one timestamped line per job started and finished (for background runs)")
    p.add_argument("--shard", help="i/n: run only shard i of n (start n processes to use n cores)")
    p.add_argument("--threads", type=int, help="torch CPU threads for this process")

    from .bench import REGISTRY as BENCHMARKS

    p = sub.add_parser("bench", help="speed benchmarks against the same-run matmul peak (JSON record to benchmarks/)",
                       description="Benchmarks: " + "; ".join(f"{n} — {d}" for n, (_, _, d) in BENCHMARKS.items()))
    p.add_argument("what", choices=list(BENCHMARKS), help=f"which benchmark: {', '.join(BENCHMARKS)}")
    p.add_argument("--device", help="auto | cpu | cuda")
    p.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice; 1 on a shared machine)")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from . import runner

    if args.command == "status":
        runner.status(args.profile, args.only)
    elif args.command == "reproduce":
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        summary = runner.reproduce(args.profile, args.only, args.budget, args.device, progress=not args.no_progress,
                                   shard=args.shard)
        return 0 if summary["ran"] or not summary["stopped_at_budget"] else 3
    elif args.command == "bench":
        from . import bench

        bench.run(args.what, device=args.device, seconds=args.seconds, threads=args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
