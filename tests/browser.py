"""The one headless Chromium of a test run (Debian's, driven by Playwright): a session fixture that
conftest.py registers once for every browser test module.  Without Chromium the tests skip, saying how
to get it; under REQUIRE_BROWSER=1 (CI) they fail instead."""
import os
import shutil
import sys
from pathlib import Path

import pytest

SCREENSHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS") or Path(__file__).parent.parent / "build" / "console-screenshots")
CLAIM_PREFIX = "https://jn-cg.example.cn/mp/claim"  # as registered for 扫普通链接二维码打开小程序
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        message = ("browser tests need Debian's Chromium and a CJK font: "
                   "apt-get install chromium fonts-wqy-microhei (never `playwright install`)")
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    sys.__stderr__.write(f"\nconsole screenshots: {SCREENSHOTS}\n")


