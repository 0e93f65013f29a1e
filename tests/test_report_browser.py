"""The HTML report opens in a real headless browser with its figures and no console errors."""

from __future__ import annotations

import shutil

import pytest

from solutions import get_solution

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(BROWSER is None, reason="no chromium on this machine (.ci/run installs Debian's chromium)")
def test_report_renders_with_figures_and_no_console_errors(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    cls = get_solution("image_classification")
    solution = cls(recipe="quick", epochs=1).fit(cls.sample_data, progress=False)
    paths = solution.write_report(tmp_path, solution.evaluate())
    errors = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=BROWSER, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page()
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(paths["html"].resolve().as_uri())
        images = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth])")
        headline = page.inner_text(".headline")
        browser.close()
    assert errors == []
    assert len(images) >= 5 and all(done and width > 0 for done, width in images)
    assert headline.startswith("accuracy:")
