"""scripts/sluice_build.py, the command CI pipelines run: it posts a build to a real server."""

import importlib.util
import json
from pathlib import Path

import pytest

from releases.models import Release
from releases.tokens import api_token_create
from tests.releases.test_builds import APP_JSON, UPLOAD_RESULT

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sluice_build.py"
spec = importlib.util.spec_from_file_location("sluice_build", SCRIPT)
sluice_build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sluice_build)

GITHUB = {
    "GITHUB_SHA": "9fceb02d0ae598e95dc970b74767f19372d61af8",
    "GITHUB_REF_NAME": "main",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/shop",
    "GITHUB_RUN_ID": "812",
}


@pytest.fixture
def files(tmp_path):
    (tmp_path / "upload.json").write_text(json.dumps(UPLOAD_RESULT))
    (tmp_path / "app.json").write_text(json.dumps(APP_JSON))
    return tmp_path


@pytest.mark.django_db(transaction=True)
def test_a_github_actions_run_posts_its_build(live_server, app, alice, files, capsys):
    env = {**GITHUB, "SLUICE_URL": live_server.url, "SLUICE_TOKEN": api_token_create(user=alice)}
    argv = ["--app", str(app.pk), "--version", "1.4.0", "--description", "Order ahead"]
    argv += ["--upload-result", str(files / "upload.json"), "--app-json", str(files / "app.json")]

    assert sluice_build.main(argv, env) == 0

    release = Release.objects.get(app=app, version="1.4.0")
    assert (release.build_commit, release.build_branch) == (GITHUB["GITHUB_SHA"], "main")
    assert release.build_ci_url == "https://github.com/acme/shop/actions/runs/812"
    assert release.build_report["packages"][0] == {"name": "__FULL__", "size": 1843200}
    assert f"/releases/{release.pk}/ (1.4.0, draft)" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_a_refusal_is_printed_with_its_fields_and_fails_the_step(live_server, app, alice, files, capsys):
    (files / "upload.json").write_text(json.dumps({"subPackageInfo": [{"name": "__APP__", "size": -1}]}))
    env = {**GITHUB, "SLUICE_URL": live_server.url, "SLUICE_TOKEN": api_token_create(user=alice)}
    argv = ["--app", str(app.pk), "--version", "1.4.0", "--upload-result", str(files / "upload.json")]

    assert sluice_build.main(argv, env) == 1

    err = capsys.readouterr().err
    assert "400 invalid_build" in err
    assert "miniprogram_ci.subPackageInfo[0].size" in err
    assert not Release.objects.exists()


def test_without_a_token_it_says_what_is_missing(capsys):
    assert sluice_build.main(["--app", "1", "--version", "1.0.0"], {"SLUICE_URL": "http://x"}) == 2
    assert "SLUICE_TOKEN" in capsys.readouterr().err
