"""A stand-in for the few `gh` verbs the snapshot workflow uses, backed by a JSON state file.

`gh auth setup-git`, `gh pr list --head B --state open --json number [--jq EXPR]`,
`gh pr create --base X --head B --title T --body BODY`, `gh pr edit B --title T --body BODY`.
Every call is logged in the state file ($FAKE_GH_STATE) so tests can assert what happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def _flags(args: list[str]) -> tuple[list[str], dict[str, str]]:
    positional, flags = [], {}
    i = 0
    while i < len(args):
        if args[i].startswith("--"):
            flags[args[i][2:]] = args[i + 1]
            i += 2
        else:
            positional.append(args[i])
            i += 1
    return positional, flags


def main(argv: list[str]) -> int:
    if not os.environ.get("GH_TOKEN"):
        sys.stderr.write("gh: GH_TOKEN is not set\n")
        return 4
    state_path = Path(os.environ["FAKE_GH_STATE"])
    state: dict[str, Any] = json.loads(state_path.read_text()) if state_path.exists() else {"calls": [], "prs": []}
    state["calls"].append(argv)
    code = 0
    if argv[:2] == ["auth", "setup-git"]:
        pass
    elif argv[:2] == ["pr", "list"]:
        _pos, flags = _flags(argv[2:])
        found = [{"number": pr["number"]} for pr in state["prs"]
                 if pr["head"] == flags["head"] and pr["state"] == flags.get("state", "open")]
        text = json.dumps(found)
        if "jq" in flags:
            text = subprocess.run(["jq", "-r", flags["jq"]], input=text, capture_output=True, text=True,
                                  check=True).stdout.rstrip("\n")
        sys.stdout.write(text + "\n")
    elif argv[:2] == ["pr", "create"]:
        _pos, flags = _flags(argv[2:])
        state["prs"].append({"number": len(state["prs"]) + 1, "state": "open", "base": flags["base"],
                             "head": flags["head"], "title": flags["title"], "body": flags["body"]})
    elif argv[:2] == ["pr", "edit"]:
        pos, flags = _flags(argv[2:])
        prs = [pr for pr in state["prs"] if pr["head"] == pos[0] and pr["state"] == "open"]
        if not prs:
            sys.stderr.write(f"no open pull request for {pos[0]}\n")
            code = 1
        for pr in prs:
            pr.update(title=flags["title"], body=flags["body"])
    else:
        sys.stderr.write(f"fake gh: unsupported command {argv!r}\n")
        code = 2
    state_path.write_text(json.dumps(state, indent=2))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
