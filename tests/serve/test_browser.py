"""The search page in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

Skipped with a reason when Chromium or the ``playwright`` package is missing; CI installs both
(``apt-get install -y chromium``, ``pip install playwright``; Playwright's own browser download is
never used: the page runs in the system Chromium through ``executable_path``).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("BABELIR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
)


@pytest.fixture(scope="module")
def neutral_index(tmp_path_factory: pytest.TempPathFactory, corpus_file: Path) -> Path:
    """The session corpus (about six documents per language) indexed with language statistics (the
    default minimum of documents per language is lowered so that every language has them) and a lexical
    part, so the page ranks with the shipped fusion, as a user's index built with --lexical does."""
    from babelir.encoding.neutral import NeutralSettings
    from babelir.index import build_index

    out = tmp_path_factory.mktemp("neutral-index") / "idx"
    build_index("tiny", corpus_file, out, neutralization=NeutralSettings(min_documents=2, query_sample=4),
                lexical=True)
    return out


@pytest.fixture(scope="module")
def server_url(neutral_index: Path) -> Iterator[str]:
    import uvicorn

    from babelir.index import Index
    from babelir.serve import create_app

    built_index = neutral_index
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(Index.load(built_index)), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(server_url: str) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        tab = browser.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda err: errors.append(str(err)))
        tab.goto(server_url + "/")
        yield tab
        browser.close()
        assert not errors, f"JavaScript errors on the page: {errors}"


def test_a_query_shows_ranked_results_with_their_language(page) -> None:
    page.wait_for_selector("#language option[value='ru']", state="attached")  # /health filled the filter
    page.fill("#q", "Кошка спит на коврике")
    page.press("#q", "Enter")
    page.wait_for_selector("li.hit")
    hits = page.locator("li.hit")
    assert hits.count() == 10
    languages = page.locator("li.hit .lang").all_inner_texts()
    assert set(languages) <= {"EN", "FR", "DE", "RU"} and len(set(languages)) >= 2
    assert page.locator("li.hit .text").first.inner_text().strip()
    assert "results in" in page.inner_text("#status")
    if os.environ.get("BABELIR_SCREENSHOT"):
        page.screenshot(path=os.environ["BABELIR_SCREENSHOT"], full_page=True)


def test_language_filter_in_the_page(page) -> None:
    page.select_option("#language", "de")
    page.fill("#q", "violin")
    page.click("#go")
    from playwright.sync_api import expect  # polls without eval, which the page's CSP forbids

    expect(page.locator("li.hit")).to_have_count(6)
    expect(page.locator("li.hit[data-language='de']")).to_have_count(6)
    page.select_option("#language", "")


def test_the_search_lives_in_the_address_and_the_back_button_returns(page, server_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(server_url + "/?q=violin&language=de")  # a linked search runs on load, filter included
    expect(page.locator("li.hit[data-language='de']")).to_have_count(6)
    assert page.input_value("#q") == "violin" and page.input_value("#language") == "de"
    page.select_option("#language", "")
    page.fill("#q", "Кошка спит на коврике")
    page.press("#q", "Enter")
    expect(page).to_have_url(server_url + "/?q=%D0%9A%D0%BE%D1%88%D0%BA%D0%B0+%D1%81%D0%BF%D0%B8%D1%82+"
                             "%D0%BD%D0%B0+%D0%BA%D0%BE%D0%B2%D1%80%D0%B8%D0%BA%D0%B5")
    expect(page.locator("li.hit")).to_have_count(10)
    page.go_back()
    expect(page).to_have_url(server_url + "/?q=violin&language=de")
    expect(page.locator("li.hit[data-language='de']")).to_have_count(6)
    assert page.input_value("#q") == "violin"


def test_the_status_says_how_many_languages_and_what_neutralization_did(page, server_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(server_url + "/?q=" + "the cat sleeps on the mat".replace(" ", "+"))
    expect(page.locator("li.hit")).to_have_count(10)
    spanned = len(set(page.locator("li.hit .lang").all_inner_texts()))
    status = page.inner_text("#status")
    assert f"in {spanned} language" in status
    assert "identified as en, its language statistics removed" in status  # the fixture index has statistics
    assert "language neutralization: centered" in page.inner_text("#about")


def test_the_page_says_when_bm25_and_dense_ranked_the_results(page, server_url: str) -> None:
    from playwright.sync_api import expect

    from babelir.retrieval.fusion import SHIPPED_FUSION

    page.goto(server_url + "/?q=violin")
    expect(page.locator("li.hit")).to_have_count(10)
    assert f"BM25 + dense ({SHIPPED_FUSION.spec})" in page.inner_text("#about")  # from /health
    assert f"ranked by BM25 + dense ({SHIPPED_FUSION.spec})" in page.inner_text("#status")  # from the answer
