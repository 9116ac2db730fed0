"""Finish the claims experiments on one GPU machine: parallel ``babelir experiment`` jobs, one results folder.

What is left (issue "Does the language loss pay?"): claims-test-controls, every control at the shipped
defaults on the test queries over five seeds, and claims-defaults-dev, the dev view of claims-test's models.
Small models under-use a GPU, so several processes share it. Each job starts from the committed results of
its experiment (``reports/experiments/NAME.json`` copied to ``RES/JOB.json``), so what finished is not run
again, and every committed results file is copied into ``RES`` as well: a condition another file measured
with the same settings, evaluation and seed (the defaults' and retrieval-only's test runs in
claims-test.json) is taken from there, not retrained. Every job writes its JSON after each condition x
seed; every 10 s ``OUT/results.json`` gathers them (``{job: results}``) with ``OUT/log.txt``;
``scripts/split_claims_jobs.py`` merges that into ``reports/experiments/*.json``.

Usage (from the repository root, on a machine with a GPU; a stopped run keeps what finished)::

    OUT=/tmp/claims-out python scripts/claims_jobs.py        # env: DEVICE (cuda), RUNS (/tmp/runs),
                                                             # LAUNCH_S (420), STOP_S (520), RES, EXP

Each process is run through ``babelir.experiments.command`` directly, so a machine without faiss (not
needed to evaluate) runs it.
"""
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path.cwd()
OUT = Path(os.environ["OUT"])
RES = Path(os.environ.get("RES", "/tmp/res"))
EXP = Path(os.environ.get("EXP", REPO / "configs/experiments"))
REPORTS = Path(os.environ.get("REPORTS", REPO / "reports/experiments"))
RUNS = os.environ.get("RUNS", "/tmp/runs")
DEVICE = os.environ.get("DEVICE", "cuda")
T0 = time.time()
LAUNCH_UNTIL = T0 + float(os.environ.get("LAUNCH_S", "420"))
STOP_AT = T0 + float(os.environ.get("STOP_S", "520"))
RES.mkdir(parents=True, exist_ok=True)

CONTROLS = "claims-test-controls.yaml"
JOBS = [  # (name, file, conditions, jobs it waits for: two jobs never train one model folder at once)
    ("ctl-simcse", CONTROLS, "SimCSE control", ()),
    ("ctl-kd", CONTROLS, "distillation", ()),
    ("ctl-xref", CONTROLS, "retrieval-only (English cross-references)", ()),
    ("ctl-compute", CONTROLS, "retrieval-only (same texts encoded)", ()),
    ("ctl-neutral", CONTROLS,  # defaults and retrieval-only: claims-test's results; their centering trains
     "defaults,retrieval-only,base centered,base LIR,retrieval-only centered,retrieval-only LIR", ()),
    ("dev-defaults", "claims-defaults-dev.yaml",  # retrieval-only's models: ctl-neutral's
     "base,retrieval-only,defaults,retrieval-only (demo settings),demo settings", ("ctl-neutral",)),
]
ONE_EXPERIMENT = """
import argparse, sys
from babelir.experiments.command import run_command
file, output, conditions, device, runs = sys.argv[1:6]
sys.exit(run_command(argparse.Namespace(file=file, runs_dir=runs, output=output, conditions=conditions,
                                        report_only=False, device=device)))
"""
running: dict[str, subprocess.Popen] = {}
done: dict[str, int] = {}
lock = threading.Lock()


def log(msg: str) -> None:
    line = f"[{time.time() - T0:6.1f}s] {msg}"
    print(line, flush=True)
    with open(RES / "driver.log", "a") as f:
        f.write(line + "\n")


def start(name: str, file: str, conditions: str) -> None:
    committed = REPORTS / file.replace(".yaml", ".json")
    if committed.is_file() and not (RES / f"{name}.json").exists():  # what finished is reused, not run again
        shutil.copy(committed, RES / f"{name}.json")
    env = dict(os.environ, OMP_NUM_THREADS="3", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    out = open(RES / f"{name}.log", "w")  # noqa: SIM115 -- the child writes it; closed at exit
    cmd = [sys.executable, "-c", ONE_EXPERIMENT, str(EXP / file), str(RES / f"{name}.json"), conditions, DEVICE, RUNS]
    running[name] = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    log(f"start {name}: {file} [{conditions}]")


def sync() -> None:
    with lock:
        results = {}
        for path in sync_paths():
            with contextlib.suppress(OSError, ValueError):
                results[path.stem] = json.loads(path.read_text())
        tmp = OUT / "results.json.tmp"
        tmp.write_text(json.dumps(results))
        tmp.replace(OUT / "results.json")
        logs = []
        for path in sorted(RES.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()
            logs.append(f"===== {path.name}\n" + "\n".join(text[-60:]))
        (OUT / "log.txt").write_text("\n".join(logs))


def syncer() -> None:
    while True:
        time.sleep(10)
        sync()


PREWARM = """
import sys
from babelir.encoding import load_model
from babelir.experiments.run import _benchmarks
from babelir.experiments.spec import load_experiment, training_config
from babelir.training.data import load_training_data
exp = load_experiment(sys.argv[1])
load_model(exp.defaults.get("backbone", "me5-small"), device="cpu")  # the one backbone conversion
load_training_data(training_config(exp, exp.conditions[2], 42))  # the default data, built once
for f in sys.argv[1:]:
    print(f, [b.name for b in _benchmarks(load_experiment(f))], flush=True)
"""


def shared_results() -> None:
    """Every committed results file into RES, so a job finds the measurements other experiments made."""
    for path in REPORTS.glob("*.json"):
        if not (RES / path.name).exists():
            shutil.copy(path, RES / path.name)


def sync_paths() -> list[Path]:
    return [RES / f"{name}.json" for name, *_ in JOBS]


shared_results()
threading.Thread(target=syncer, daemon=True).start()
with open(RES / "prewarm.log", "w") as out:
    rc = subprocess.call([sys.executable, "-c", PREWARM, str(EXP / CONTROLS), str(EXP / "claims-defaults-dev.yaml")],
                         stdout=out, stderr=subprocess.STDOUT)
log(f"prewarm rc {rc}")
pending = list(JOBS)
while running or pending:
    for job in [j for j in pending if all(d in done for d in j[3])]:
        if time.time() > LAUNCH_UNTIL:
            break
        pending.remove(job)
        start(*job[:3])
    if time.time() > LAUNCH_UNTIL and pending:
        log(f"not started (time): {[j[0] for j in pending]}")
        pending = []
    time.sleep(2)
    for name, proc in list(running.items()):
        if proc.poll() is not None:
            done[name] = proc.returncode
            del running[name]
            log(f"done {name}: rc {proc.returncode}")
    if time.time() > STOP_AT and running:
        for name, proc in running.items():
            log(f"stopping {name} (time)")
            proc.terminate()
        time.sleep(5)
        for proc in running.values():
            proc.kill()
        break
sync()
log("driver finished")
