#!/usr/bin/env python3
"""Post a CI build to Sluice: the release of its version is created or brought up to date.

Standard library only, so any CI image with Python 3.8+ runs it. After miniprogram-ci's upload:

    node -e "..." > upload-result.json          # ci.upload(...)'s resolved value, as JSON
    python3 sluice_build.py --url https://sluice.example.com --app 12 --version 1.4.0 \
        --upload-result upload-result.json --app-json miniprogram/app.json

The token comes from SLUICE_TOKEN (an API token of a developer, made on the Team page); the
commit, branch and CI run URL are read from git and from GitHub Actions' or GitLab CI's
variables unless given. Prints the release's URL; exits 1 with Sluice's error when refused.
"""

import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request


def _git(*args: str) -> str:
    try:
        # Fixed arguments, and git from the PATH as every CI step finds it.
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=True)  # noqa: S603, S607
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _ci_url(env) -> str:
    if env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{env.get('GITHUB_REPOSITORY')}/actions/runs/{env['GITHUB_RUN_ID']}"
    return env.get("CI_JOB_URL") or env.get("CI_PIPELINE_URL") or env.get("BUILD_URL") or ""


def _branch(env) -> str:
    return (
        env.get("GITHUB_REF_NAME")
        or env.get("CI_COMMIT_REF_NAME")
        or _git("rev-parse", "--abbrev-ref", "HEAD")
    )


def _commit(env) -> str:
    return env.get("GITHUB_SHA") or env.get("CI_COMMIT_SHA") or _git("rev-parse", "HEAD")


def _read_json(path: str | None):
    if not path:
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def build_body(args, env) -> dict:
    return {
        "version": args.version,
        "description": args.description,
        "commit": args.commit
        or env.get("GITHUB_SHA")
        or env.get("CI_COMMIT_SHA")
        or _git("rev-parse", "HEAD"),
        "branch": args.branch or _branch(env),
        "ci_url": args.ci_url or _ci_url(env),
        "miniprogram_ci": _read_json(args.upload_result),
        "app_json": _read_json(args.app_json),
    }


def post(url: str, token: str, body: dict) -> tuple[int, dict]:
    if not url.startswith(("https://", "http://")):
        raise SystemExit(f"sluice_build: {url} is not an http(s) address")
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def main(argv=None, env=None) -> int:
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=env.get("SLUICE_URL"), help="Sluice's address (or SLUICE_URL)")
    parser.add_argument("--app", required=True, type=int, help="the app's id in Sluice")
    parser.add_argument("--version", required=True)
    parser.add_argument("--description", default="", help="the version's description (the release notes)")
    parser.add_argument("--upload-result", help="miniprogram-ci's upload result, a JSON file")
    parser.add_argument("--app-json", help="the project's app.json")
    parser.add_argument("--commit")
    parser.add_argument("--branch")
    parser.add_argument("--ci-url")
    args = parser.parse_args(argv)
    token = env.get("SLUICE_TOKEN", "")
    if not args.url or not token:
        print("sluice_build: set --url (or SLUICE_URL) and SLUICE_TOKEN", file=sys.stderr)
        return 2
    status, answer = post(
        f"{args.url.rstrip('/')}/api/v1/apps/{args.app}/builds", token, build_body(args, env)
    )
    if status != 201:
        error = answer.get("error", {})
        print(f"sluice_build: {status} {error.get('code')}: {error.get('message')}", file=sys.stderr)
        for field, problem in (error.get("details") or {}).items():
            print(f"  {field}: {problem}", file=sys.stderr)
        return 1
    release = answer["release"]
    print(f"{args.url.rstrip('/')}/releases/{release['id']}/ ({release['version']}, {release['state']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
