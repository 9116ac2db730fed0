"""Run the claims experiment files as parallel jobs on one GPU machine, results gathered in one folder.

Small models under-use a GPU, so several ``babelir experiment`` processes share it. Phase A: claims-test
(held-out test queries, three jobs) and claims-controls-dev (the dev choices: SimCSE and distillation
weights, LIR rank). Phase B, once the dev jobs are done: claims-test-controls with the dev choices
written into it, and claims-defaults-dev (the dev view of claims-test's models). Every job writes its own
JSON after each condition x seed; every 10 s ``OUT/results.json`` gathers them (``{job: results}``) with
``OUT/log.txt``; ``scripts/split_claims_jobs.py`` turns that into ``reports/experiments/*.json``.

Usage (from the repository root, on a machine with a GPU; a stopped run keeps what finished)::

    OUT=/tmp/claims-out python scripts/claims_jobs.py        # env: DEVICE (cuda), RUNS (/tmp/runs),
                                                             # LAUNCH_S (420), STOP_S (520), RES, EXP

BM25 (CPU, bm25s) is not run here: ``babelir experiment configs/experiments/claims-test.yaml
--conditions BM25`` adds it afterwards, reusing the rest. Each process is run through
``babelir.experiments.command`` directly, so a machine without faiss (not needed to evaluate) runs it.
"""
import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path.cwd()
OUT = Path(os.environ["OUT"])
RES = Path(os.environ.get("RES", "/tmp/res"))
EXP = Path(os.environ.get("EXP", REPO / "configs/experiments"))
RUNS = os.environ.get("RUNS", "/tmp/runs")
DEVICE = os.environ.get("DEVICE", "cuda")
T0 = time.time()
LAUNCH_UNTIL = T0 + float(os.environ.get("LAUNCH_S", "420"))
STOP_AT = T0 + float(os.environ.get("STOP_S", "520"))
RES.mkdir(parents=True, exist_ok=True)
NO_PARALLEL = ("sw", "hi", "ko", "ar", "vi")

PHASE_A = [
    ("test-a", "claims-test.yaml", "base,retrieval-only"),
    ("test-b", "claims-test.yaml", "defaults"),
    ("dev-simcse", "claims-controls-dev.yaml", "SimCSE 1,SimCSE 10"),
    ("dev-kd", "claims-controls-dev.yaml", "distillation 1,distillation 10"),
    ("dev-lir", "claims-controls-dev.yaml", "base LIR 1,base LIR 2,base LIR 4"),
    ("test-c", "claims-test.yaml", "retrieval-only (demo settings),demo settings"),
]
PHASE_B = [  # (name, file, conditions, jobs it waits for besides the dev ones)
    ("ctl-simcse", "claims-test-controls.yaml", "SimCSE control", ()),
    ("ctl-kd", "claims-test-controls.yaml", "distillation", ()),
    ("ctl-xref", "claims-test-controls.yaml", "retrieval-only (English cross-references)", ()),
    ("ctl-neutral", "claims-test-controls.yaml",
     "base centered,base LIR,retrieval-only centered,retrieval-only LIR", ("test-a",)),  # its models: test-a's
    ("ctl-compute", "claims-test-controls.yaml", "retrieval-only (same texts encoded)", ()),
    ("dev-defaults", "claims-defaults-dev.yaml",
     "base,retrieval-only,defaults,retrieval-only (demo settings),demo settings", ("test-a", "test-b", "test-c")),
]
DEV_JOBS = ("dev-simcse", "dev-kd", "dev-lir")
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
    env = dict(os.environ, OMP_NUM_THREADS="3", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    out = open(RES / f"{name}.log", "w")  # noqa: SIM115 -- the child writes it; closed at exit
    cmd = [sys.executable, "-c", ONE_EXPERIMENT, str(EXP / file), str(RES / f"{name}.json"), conditions, DEVICE, RUNS]
    running[name] = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    log(f"start {name}: {file} [{conditions}]")


def sync() -> None:
    with lock:
        results = {}
        for path in sorted(RES.glob("*.json")):
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


def weight_choice(job: str, prefix: str) -> float:
    """The weight with the higher mean no-parallel dev nDCG@10 (ties: the smaller)."""
    results = json.loads((RES / f"{job}.json").read_text())["conditions"]
    best = None
    for name, seeds in results.items():
        if not name.startswith(prefix):
            continue
        scores = seeds["42"]["scores"]
        mean = sum(v for b, v in scores.items() if b.split("-")[2] in NO_PARALLEL) / len(NO_PARALLEL)
        weight = float(name.split()[-1])
        log(f"dev {name}: mean no-parallel {mean:.4f}")
        if best is None or mean > best[0] or (mean == best[0] and weight < best[1]):
            best = (mean, weight)
    return best[1]


def write_controls(simcse: float, kd: float, lir: float) -> None:
    """The dev choices into claims-test-controls.yaml (its provisional values replaced)."""
    text = (EXP / "claims-test-controls.yaml").read_text()
    text = re.sub(r"(simcse_weight: )[0-9.]+", rf"\g<1>{simcse:g}", text)
    text = re.sub(r"(distillation_weight: )[0-9.]+", rf"\g<1>{kd:g}", text)
    text = re.sub(r'"lir:[0-9]+"', f'"lir:{lir:g}"', text)
    (EXP / "claims-test-controls.yaml").write_text(text)
    (OUT / "claims-test-controls.yaml").write_text(text)
    log(f"controls: simcse_weight {simcse:g}, distillation_weight {kd:g}, LIR rank {lir:g}")


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
threading.Thread(target=syncer, daemon=True).start()
with open(RES / "prewarm.log", "w") as out:
    rc = subprocess.call([sys.executable, "-c", PREWARM, str(EXP / "claims-test.yaml"), str(EXP / "claims-controls-dev.yaml")],
                         stdout=out, stderr=subprocess.STDOUT)
log(f"prewarm rc {rc}")
for job in PHASE_A:
    start(*job)
phase_b_started = False
pending_b = list(PHASE_B)
while running or (pending_b and phase_b_started):
    time.sleep(2)
    for name, proc in list(running.items()):
        if proc.poll() is not None:
            done[name] = proc.returncode
            del running[name]
            log(f"done {name}: rc {proc.returncode}")
    if not phase_b_started and all(job in done for job in DEV_JOBS):
        phase_b_started = True
        try:
            write_controls(weight_choice("dev-simcse", "SimCSE"), weight_choice("dev-kd", "distillation"),
                           weight_choice("dev-lir", "base LIR"))
        except Exception as err:  # a failed dev job: no phase B
            log(f"no controls: {err!r}")
            pending_b = []
    if phase_b_started and time.time() < LAUNCH_UNTIL:
        for job in [j for j in pending_b if all(d in done for d in j[3])]:
            pending_b.remove(job)
            start(*job[:3])
    if time.time() > LAUNCH_UNTIL and pending_b:
        log(f"not started (time): {[j[0] for j in pending_b]}")
        pending_b = []
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
sync()
