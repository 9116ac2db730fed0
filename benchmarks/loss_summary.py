"""Did each loss go down? Mean of the first and last N steps of a ``train_log.jsonl``.

    python benchmarks/loss_summary.py RUN_DIR/train_log.jsonl [--window 20]
"""

import argparse
import json
import statistics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log")
    parser.add_argument("--window", type=int, default=20)
    args = parser.parse_args()
    with open(args.log, encoding="utf-8") as handle:
        log = [json.loads(line) for line in handle]
    rate = statistics.mean(r["examples_per_s"] for r in log[1:] or log)
    print(f"steps {len(log)}, elapsed {log[-1]['elapsed_s']:.0f} s, mean examples/s {rate:.2f}")
    for key in ("retrieval", "semantic", "language"):
        if key not in log[0]:
            continue
        first = statistics.mean(r[key] for r in log[: args.window])
        last = statistics.mean(r[key] for r in log[-args.window :])
        verdict = "lower" if last < first else "HIGHER"
        print(f"{key}: first {args.window} steps {first:.4f} -> last {args.window} steps {last:.4f} ({verdict})")


if __name__ == "__main__":
    main()
