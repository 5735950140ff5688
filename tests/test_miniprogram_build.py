"""The mini-program as WeChat will receive it: its unit tests pass, the weapp build meets WeChat's rules
(privacy consent before private APIs, the private APIs declared with a reason, every package ≤ 2 MB,
the appid a placeholder, an HTTPS API base and never an IP, subscribe requests from a tap and at
most 3 templates), and the app serves the H5 build at /m/."""
import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.miniprogram import ROOT, build, node, run_build

MB = 1024 * 1024


@pytest.fixture(scope="module")
def npm():
    return node()


@pytest.fixture(scope="module")
def weapp(npm, tmp_path_factory):
    output = tmp_path_factory.mktemp("weapp")
    build(npm, "weapp", output, MP_API_BASE="https://canchu.jining.example.gov.cn/api/v1")
    return output


def test_the_core_unit_tests_pass(npm):
    done = subprocess.run([npm, "test"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"Tests\s+\S*\s*\d+ passed", re.sub(r"\x1b\[[0-9;]*m", "", done.stdout))


def test_the_core_never_calls_taro_and_only_the_platform_layer_does():
    for path in (ROOT / "src" / "core").glob("*.ts"):
        assert "@tarojs" not in path.read_text(encoding="utf-8"), path
    for path in (ROOT / "src").rglob("*.ts*"):
        if "platform" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(Taro|wx)\.[a-zA-Z]+\(", text), f"{path} calls the platform directly"


def test_the_weapp_build_meets_wechats_rules(weapp):
    app = json.loads((weapp / "app.json").read_text(encoding="utf-8"))
    assert "getLocation" in app["requiredPrivateInfos"] and "chooseLocation" in app["requiredPrivateInfos"]
    assert app["permission"]["scope.userLocation"]["desc"]
    assert app["__usePrivacyCheck__"] is True
    bundle = "".join(p.read_text(encoding="utf-8", errors="ignore") for p in weapp.rglob("*.js"))
    templates = "".join(p.read_text(encoding="utf-8", errors="ignore") for p in weapp.rglob("*.wxml"))
    assert "agreePrivacyAuthorization" in bundle + templates  # the consent button's open-type
    assert "/me/privacy-consent" in bundle  # and the app's own consent, recorded
    assert "https://canchu.jining.example.gov.cn/api/v1" in bundle
    assert not re.search(r"https?://\d+\.\d+\.\d+\.\d+", bundle)
    # Every package ≤ 2 MB: the main package (all but the sub-package folders) and each sub-package.
    roots = {package["root"] for package in app["subPackages"]}
    main = sum(p.stat().st_size for p in weapp.rglob("*") if p.is_file() and p.relative_to(weapp).parts[0] not in roots)
    assert main <= 2 * MB, f"main package {main / MB:.2f} MB"
    for root in roots:
        size = sum(p.stat().st_size for p in (weapp / root).rglob("*") if p.is_file())
        assert size <= 2 * MB, f"sub-package {root}: {size / MB:.2f} MB"
    project = json.loads((ROOT / "project.config.json").read_text(encoding="utf-8"))
    assert project["appid"] == "touristappid" and project["miniprogramRoot"] == "dist/weapp/"


def test_subscribe_requests_come_from_a_tap_three_templates_at_most():
    platform = (ROOT / "src" / "platform" / "subscribe.weapp.ts").read_text(encoding="utf-8")
    assert "slice(0, 3)" in platform
    callers = [p for p in (ROOT / "src").rglob("*.tsx") if "requestSubscribe(" in p.read_text(encoding="utf-8")]
    assert [p.name for p in callers] == ["index.tsx"] and callers[0].parent.name == "mine"
    page = callers[0].read_text(encoding="utf-8")
    assert "onClick={subscribe}" in page and page.count("requestSubscribe(") == 1


def test_a_weapp_build_refuses_an_http_or_ip_api_base(npm, tmp_path):
    for base in ("http://canchu.example.gov.cn/api/v1", "https://10.1.2.3/api/v1"):
        done = run_build(npm, "weapp", tmp_path / "refused", MP_API_BASE=base)
        assert done.returncode != 0 and "MP_API_BASE must be an https:// address" in done.stdout + done.stderr


def test_the_app_serves_the_h5_build_at_m(make_app, app_config, tmp_path):
    built = tmp_path / "h5"
    (built / "js").mkdir(parents=True)
    (built / "index.html").write_text("<!doctype html><title>餐厨智慧</title>", encoding="utf-8")
    (built / "js" / "app.js").write_text("console.log(1)", encoding="utf-8")
    client = make_app({**app_config, "MINIAPP_H5_DIR": str(built)}).test_client()

    def fetch(path):
        response = client.get(path)
        response.body = response.get_data(as_text=True)
        response.close()  # a file the app sent: closed, not left to the garbage collector
        return response

    page = fetch("/m/")
    assert page.status_code == 200 and "餐厨智慧" in page.body
    assert "script-src 'self'" in page.headers["Content-Security-Policy"] and page.headers["Cache-Control"] == "no-cache"
    assert fetch("/m/js/app.js").headers["Cache-Control"].startswith("public")
    assert "餐厨智慧" in fetch("/m/owner/shop/index").body  # any page: the app's own router
    for escape in ("/m/../server/config.py", "/m/%2e%2e/server/config.py", "/m/..%2fserver/config.py"):
        assert "load_config" not in fetch(escape).body  # never a file outside the build
    missing = make_app({**app_config, "MINIAPP_H5_DIR": str(tmp_path / "none")}).test_client().get("/m/")
    assert missing.status_code == 404 and "npm run build:h5" in missing.get_json()["error"]["message"]
