"""Merge scripts/claims_jobs.py's OUT/results.json into reports/experiments/*.json (keys checked against the files).

Each experiment's committed results are kept and the jobs' results added over them, so a partial GPU run
only adds what it finished. Usage: python scripts/split_claims_jobs.py OUT/results.json [REPORTS_DIR] [EXPERIMENTS_DIR]
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from babelir.experiments.run import result_key  # noqa: E402
from babelir.experiments.spec import load_experiment  # noqa: E402
from babelir.utils.atomic import atomic_write_json  # noqa: E402

combined = json.loads(Path(sys.argv[1]).read_text())
reports = Path(sys.argv[2] if len(sys.argv) > 2 else str(Path(__file__).resolve().parents[1] / "reports/experiments"))
EXP = Path(sys.argv[3] if len(sys.argv) > 3 else str(Path(__file__).resolve().parents[1] / "configs/experiments"))
groups = {
    "claims-test-controls": ["ctl-simcse", "ctl-kd", "ctl-xref", "ctl-neutral", "ctl-compute"],
    "claims-defaults-dev": ["dev-defaults"],
}
for name, jobs in groups.items():
    path = reports / f"{name}.json"
    results = json.loads(path.read_text()) if path.is_file() else {"conditions": {}}
    for job in jobs:
        for cond, seeds in combined.get(job, {}).get("conditions", {}).items():
            results["conditions"].setdefault(cond, {}).update(seeds)
    exp = load_experiment(EXP / f"{name}.yaml")
    for cond in exp.conditions:
        for seed, entry in results["conditions"].get(cond.name, {}).items():
            if entry["key"] != result_key(exp, cond, int(seed)):
                print(f"{name}: {cond.name} seed {seed}: key does not match the file")
    print(name, {c: len(s) for c, s in results["conditions"].items()})
    atomic_write_json(path, results)  # the format babelir experiment writes: a merge diffs as added seeds
