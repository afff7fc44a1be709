"""A stand-in for the `gh` CLI's `gh api` verb, backed by a JSON file instead of api.github.com.

Only what our workflows use. pr-comment.yml: `gh api` GET a pull request, GET issue comments
(paged, two per page, so `--paginate` matters), POST a comment, PATCH a comment; `--jq` runs the
real `jq -r` per page as gh does. drift.yml: `gh issue list --json number,body --jq`, `gh issue
create`, `gh issue edit`, `gh issue close`. Every call is logged in the state file so tests can
assert which writes happened.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

PAGE = 2


def _emit(value: Any, jq: str | None) -> None:
    text = json.dumps(value)
    if jq is None:
        sys.stdout.write(text + "\n")
        return
    out = subprocess.run(["jq", "-r", jq], input=text, capture_output=True, text=True, check=True)
    sys.stdout.write(out.stdout)


def main(argv: list[str]) -> int:
    if not os.environ.get("GH_TOKEN"):
        sys.stderr.write("gh: GH_TOKEN is not set\n")
        return 4
    if argv[:1] == ["issue"]:
        return issue(argv[1:])
    if not argv or argv[0] != "api":
        sys.stderr.write(f"fake gh: unsupported command {argv!r}\n")
        return 2
    method, jq, body_file, paginate, path = "GET", None, None, False, None
    args = iter(argv[1:])
    for arg in args:
        if arg == "--paginate":
            paginate = True
        elif arg == "--method":
            method = next(args)
        elif arg == "--jq":
            jq = next(args)
        elif arg == "--input":
            body_file = next(args)
        elif path is None:
            path = arg
        else:
            sys.stderr.write(f"fake gh: unexpected argument {arg!r}\n")
            return 2
    state_path = Path(os.environ["FAKE_GH_STATE"])
    state = json.loads(state_path.read_text())
    state["calls"].append([method, path])
    status = _route(state, method, path or "", body_file, jq, paginate)
    state_path.write_text(json.dumps(state, indent=2))
    return status


def _route(state: dict[str, Any], method: str, path: str, body_file: str | None, jq: str | None,
           paginate: bool) -> int:
    repo = re.escape(state["repo"])
    if method == "GET" and (m := re.fullmatch(rf"repos/{repo}/pulls/(\d+)", path)):
        pull = state["pulls"].get(m.group(1))
        if pull is None:
            sys.stderr.write("gh: Not Found (HTTP 404)\n")
            return 1
        _emit(pull, jq)
        return 0
    if method == "GET" and (m := re.fullmatch(rf"repos/{repo}/issues/(\d+)/comments", path)):
        comments = [c for c in state["comments"] if c["issue"] == int(m.group(1))]
        pages = [comments[i : i + PAGE] for i in range(0, len(comments), PAGE)] or [[]]
        for page in pages if paginate else pages[:1]:
            _emit(page, jq)
        return 0
    if method == "POST" and (m := re.fullmatch(rf"repos/{repo}/issues/(\d+)/comments", path)):
        body = json.loads(Path(body_file or "").read_text())["body"]
        state["next_id"] += 1
        comment = {"id": state["next_id"], "issue": int(m.group(1)), "body": body,
                   "user": {"login": "github-actions[bot]"},
                   "html_url": f"https://github.invalid/comment/{state['next_id']}"}
        state["comments"].append(comment)
        _emit(comment, jq)
        return 0
    if method == "PATCH" and (m := re.fullmatch(rf"repos/{repo}/issues/comments/(\d+)", path)):
        comment = next((c for c in state["comments"] if c["id"] == int(m.group(1))), None)
        if comment is None:
            sys.stderr.write("gh: Not Found (HTTP 404)\n")
            return 1
        comment["body"] = json.loads(Path(body_file or "").read_text())["body"]
        _emit(comment, jq)
        return 0
    sys.stderr.write(f"fake gh: no route for {method} {path}\n")
    return 1


def issue(argv: list[str]) -> int:
    verb, rest = argv[0], argv[1:]
    opts: dict[str, str] = {}
    positional: list[str] = []
    args = iter(rest)
    for arg in args:
        if arg.startswith("--"):
            opts[arg[2:]] = next(args)
        else:
            positional.append(arg)
    state_path = Path(os.environ["FAKE_GH_STATE"])
    state = json.loads(state_path.read_text())
    if opts.get("repo") != state["repo"]:
        sys.stderr.write(f"fake gh: wrong or missing --repo {opts.get('repo')!r}\n")
        return 1
    state["calls"].append(["issue " + verb, *positional])
    issues = state.setdefault("issues", [])
    if verb == "list":
        fields = opts["json"].split(",")
        found = [{k: i[k] for k in fields} for i in issues if i["state"] == opts.get("state", "open")]
        _emit(found[: int(opts.get("limit", "30"))], opts.get("jq"))
    elif verb == "create":
        number = len(issues) + 1
        issues.append({"number": number, "title": opts["title"], "state": "open",
                       "body": Path(opts["body-file"]).read_text()})
        sys.stdout.write(f"https://github.invalid/issues/{number}\n")
    elif verb == "edit":
        target = next(i for i in issues if i["number"] == int(positional[0]))
        target["body"] = Path(opts["body-file"]).read_text()
    elif verb == "close":
        target = next(i for i in issues if i["number"] == int(positional[0]))
        target["state"] = "closed"
        target.setdefault("comments", []).append(opts["comment"])
    else:
        sys.stderr.write(f"fake gh: unsupported issue verb {verb!r}\n")
        return 2
    state_path.write_text(json.dumps(state, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
