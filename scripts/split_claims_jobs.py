"""Split scripts/claims_jobs.py's OUT/results.json into reports/experiments/*.json (keys checked against the files).

Usage: python scripts/split_claims_jobs.py OUT/results.json [REPORTS_DIR] [EXPERIMENTS_DIR]
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from babelir.experiments.run import result_key  # noqa: E402
from babelir.experiments.spec import load_experiment  # noqa: E402

combined = json.loads(Path(sys.argv[1]).read_text())
reports = Path(sys.argv[2] if len(sys.argv) > 2 else str(Path(__file__).resolve().parents[1] / "reports/experiments"))
EXP = Path(sys.argv[3] if len(sys.argv) > 3 else str(Path(__file__).resolve().parents[1] / "configs/experiments"))
groups = {
    "claims-test": ["test-a", "test-b", "test-c"],
    "claims-controls-dev": ["dev-simcse", "dev-kd", "dev-lir"],
    "claims-test-controls": ["ctl-simcse", "ctl-kd", "ctl-xref", "ctl-neutral", "ctl-compute"],
    "claims-defaults-dev": ["dev-defaults"],
}
merged = {}
for name, jobs in groups.items():
    conditions = {}
    for job in jobs:
        for cond, seeds in combined.get(job, {}).get("conditions", {}).items():
            conditions.setdefault(cond, {}).update(seeds)
    merged[name] = {"conditions": conditions}
# the controls file compares with the defaults and retrieval-only models of claims-test: same keys, copied
controls = load_experiment(EXP / "claims-test-controls.yaml")
for cond in controls.conditions:
    if cond.name in merged["claims-test"]["conditions"] and cond.name not in merged["claims-test-controls"]["conditions"]:
        for seed, entry in merged["claims-test"]["conditions"][cond.name].items():
            if entry["key"] == result_key(controls, cond, int(seed)):
                merged["claims-test-controls"]["conditions"].setdefault(cond.name, {})[seed] = entry
            else:
                print("key differs:", cond.name, seed)
for name, results in merged.items():
    exp = load_experiment(EXP / f"{name}.yaml")
    for cond in exp.conditions:
        for seed, entry in results["conditions"].get(cond.name, {}).items():
            if entry["key"] != result_key(exp, cond, int(seed)):
                print(f"{name}: {cond.name} seed {seed}: key does not match the file")
    counts = {c: len(s) for c, s in results["conditions"].items()}
    print(name, counts)
    (reports / f"{name}.json").write_text(json.dumps(results, indent=1) + "\n")
