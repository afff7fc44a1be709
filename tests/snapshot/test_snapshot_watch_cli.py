"""`as3-gitops snapshot watch` as a process: options, exit codes, SIGTERM, the health port; and the policy
and commit-subject helpers on their own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from snapshot_watch_harness import HELLO, Cluster, bare_remote, git, wait_for

from renderer.snapshot.commit import compare
from renderer.snapshot.moves import describe_service, watch_subject
from renderer.snapshot.policy import pool_limits


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_watch_process_pushes_a_change_serves_probes_and_stops_on_sigterm(tmp_path, kube_api, make_repo) -> None:
    repo = make_repo(HELLO)
    cluster = Cluster(kube_api)
    cluster.load()
    remote = bare_remote(repo.path, tmp_path / "remote.git")
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("BIGIP_PASSWORD", None)
    cmd = [sys.executable, "-m", "renderer", "snapshot", "watch", "--remote", str(remote),
           "--kubeconfig", str(kube_api.write_kubeconfig()), "--debounce", "0.3", "--resync", "1",
           "--retry", "0.2", "--health", f"127.0.0.1:{port}", "--workdir", str(tmp_path / "checkout"),
           "--max-runtime", "60"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        def ready() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            except requests.RequestException:  # not listening yet, or busy starting
                return False

        wait_for(ready, timeout=40, what="readyz")
        # the first sync normalizes the hand-written example snapshot: one commit
        wait_for(lambda: git(remote, "rev-list", "--count", "main") == "2", what="first push")
        cluster.replace("10.10.2.7", "10.10.2.99", "hello-world-5f6d7c-zzzzz")
        wait_for(lambda: git(remote, "rev-list", "--count", "main") == "3", what="second push")
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert git(remote, "log", "-1", "--format=%s", "main") == \
        "snapshot: default/hello-world-svc 3 -> 3 members (1 replaced)"
    assert "watch: pushed " in err and err.endswith("watch: stopped\n")
    assert "Traceback" not in err


@pytest.mark.parametrize(("args", "message"), [
    (["--debounce", "0"], "error: --debounce must be positive"),
    (["--health", "localhost"], "error: --health 'localhost': expected HOST:PORT"),
    (["--branch", "a..b"], "error: 'a..b' is not a valid branch name"),
    (["--review-branch", "main"], "error: --branch and --review-branch must differ"),
    (["--insecure"], "error: --ca-bundle, --insecure and --password-file need --host"),
    (["--host", "127.0.0.1:1"], "error: BIG-IP credentials missing"),
    (["--in-cluster", "--context", "x"], "error: --in-cluster excludes --kubeconfig and --context"),
])
def test_bad_options_exit_2_before_anything_starts(args, message, tmp_path, monkeypatch, capsys) -> None:
    from renderer.cli import main

    monkeypatch.delenv("BIGIP_USERNAME", raising=False)
    started = time.monotonic()
    code = main(["snapshot", "watch", "--remote", str(tmp_path / "nowhere.git"), "--workdir",
                 str(tmp_path / "w"), *args])
    assert code == 2
    assert capsys.readouterr().err.startswith(message)
    assert time.monotonic() - started < 10


def test_a_workdir_that_is_not_a_checkout_is_refused(tmp_path, kube_api, capsys) -> None:
    from renderer.cli import main

    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "keep.txt").write_text("mine")
    Cluster(kube_api).load()
    code = main(["snapshot", "watch", "--remote", str(tmp_path / "r.git"), "--workdir", str(tmp_path / "w"),
                 "--kubeconfig", str(kube_api.write_kubeconfig()), "--max-runtime", "20"])
    assert code == 2
    assert "--workdir exists, is not empty and is not a git checkout" in capsys.readouterr().err
    assert (tmp_path / "w" / "keep.txt").read_text() == "mine"


def _pool(*addresses: str) -> dict:
    members = [{"servicePort": 80, "serverAddresses": [a]} for a in addresses]
    return {"class": "ADC", "t": {"class": "Tenant", "app": {"class": "Application",
                                                           "p": {"class": "Pool", "members": members}}}}


def test_pool_limits_count_removed_members_and_never_allow_emptying() -> None:
    old = _pool("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4")
    assert pool_limits(old, _pool("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.9"), 25) == []
    assert pool_limits(old, _pool("10.0.0.1", "10.0.0.2", "10.0.0.8", "10.0.0.9"), 25) == [
        "pool /t/app/p would lose 2 of 4 members at once (50% > maxRemovedPercent 25%)"]
    assert pool_limits(old, _pool(), 100) == ["pool /t/app/p would lose all 4 members"]
    assert pool_limits(_pool(), _pool("10.0.0.1"), 0) == []  # growing from empty is fine
    assert pool_limits(old, _pool("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"), 0) == []


def _eps(ns: str, name: str, *ips: str) -> dict:
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns},
            "subsets": [{"addresses": [{"ip": ip} for ip in ips]}]}


def test_commit_subjects_say_which_service_moved_and_how() -> None:
    assert describe_service(("d", "web"), frozenset({"a", "b", "c"}), frozenset({"a", "x", "y"})) == \
        "d/web 3 -> 3 members (2 replaced)"
    assert describe_service(("d", "web"), frozenset({"a"}), frozenset({"a", "b"})) == "d/web 1 -> 2 members (+1)"
    assert describe_service(("d", "web"), frozenset({"a", "b", "c"}), frozenset({"x"})) == \
        "d/web 3 -> 1 members (1 replaced, -2)"
    old = [_eps("d", "a", "10.0.0.1"), _eps("d", "b", "10.0.0.2"), _eps("d", "c", "10.0.0.3")]
    new = [_eps("d", "a", "10.0.0.9"), _eps("d", "b", "10.0.0.2", "10.0.0.4"), _eps("d", "c")]
    assert watch_subject(old, new, compare(old, new)) == \
        "snapshot: d/a 1 -> 1 members (1 replaced); d/b 1 -> 2 members (+1); and 1 more services"


WATCH_EXAMPLE = HELLO.parent / "snapshot-watch"


def _example_objects() -> dict[tuple[str, str], dict]:
    import yaml

    out = {}
    for name in ("rbac.yaml", "deployment.yaml", "secrets.yaml"):
        for doc in yaml.safe_load_all((WATCH_EXAMPLE / name).read_text()):
            out[(doc["kind"], doc["metadata"]["name"])] = doc
    return out


def test_the_deployment_example_is_valid_least_privilege_and_uses_real_options() -> None:
    import shlex

    from renderer.cli import _command
    from renderer.kube.load import load_cluster
    from renderer.source import WorkTree, load_documents

    docs, findings = load_documents(WorkTree(WATCH_EXAMPLE), ["rbac.yaml", "deployment.yaml", "secrets.yaml"])
    _cluster, kube_findings = load_cluster(docs)
    assert [f for f in findings + kube_findings if f.is_error] == []
    objects = _example_objects()
    rules = objects[("ClusterRole", "as3-gitops-watch")]["rules"]
    assert sorted((g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]
                  for v in rule["verbs"]) == sorted(
        (g, r, v) for g, r in (("", "endpoints"), ("", "nodes"), ("discovery.k8s.io", "endpointslices"))
        for v in ("get", "list", "watch"))
    pod = objects[("Deployment", "as3-gitops-watch")]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "as3-gitops-watch"
    container = pod["containers"][0]
    script = container["args"][0]
    line = script[script.index("exec as3-gitops snapshot watch"):].replace("\\\n", " ").splitlines()[0]
    words = shlex.split(line)[4:]
    watch_cmd = _command().commands["snapshot"].commands["watch"]
    known = {opt for p in watch_cmd.params for opt in p.opts}
    assert [w for w in words if w.startswith("--") and w not in known] == []
    assert words[words.index("--health") + 1] == "0.0.0.0:8080"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    env = {e["name"]: e for e in container["env"]}
    assert env["BIGIP_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "as3-gitops-bigip", "key": "password"}
    assert "GIT_TOKEN" not in line and "https://" not in line  # the token never reaches the command line
    timeout = float(words[words.index("--timeout") + 1])
    assert pod["terminationGracePeriodSeconds"] >= timeout + 300  # a deploy in progress can finish


def test_the_commit_message_is_subject_services_then_the_capture_body() -> None:
    from renderer.snapshot.moves import watch_message

    old, new = [_eps("d", "a", "10.0.0.1")], [_eps("d", "a", "10.0.0.9")]
    assert watch_message(old, new, compare(old, new), "2026-12-01T10:00:00Z", "the API (watch, w1)") == (
        "snapshot: d/a 1 -> 1 members (1 replaced)\n\nd/a 1 -> 1 members (1 replaced)\n\n"
        "Captured at 2026-12-01T10:00:00Z from the API (watch, w1).\n\n~ Endpoints d/a\n")
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}
    assert watch_message([], [node], compare([], [node]), "T", "S") == (
        "snapshot: +1 node\n\nCaptured at T from S.\n\n+ Node n1\n")


def test_a_push_race_between_two_checkouts_has_one_winner_and_urls_are_redacted(tmp_path, make_repo) -> None:
    from renderer.snapshot.gitsync import GitSync, GitTarget, Push, redact

    repo = make_repo(HELLO)
    remote = bare_remote(repo.path, tmp_path / "remote.git")
    syncs = [GitSync(GitTarget(str(remote), "main", "snapshot/refresh", tmp_path / f"c{i}")) for i in (1, 2)]
    shas = []
    for i, sync in enumerate(syncs):
        sync.prepare()
        sync.reset_to_base()
        (sync.path / "snapshot" / "extra.yaml").write_text(f"# {i}\n")
        git(sync.path, "add", "-A")
        git(sync.path, "commit", "-q", "-m", f"change {i}")
        shas.append(git(sync.path, "rev-parse", "HEAD"))
    assert syncs[0].push(shas[0], "main") is Push.PUSHED
    assert syncs[1].push(shas[1], "main") is Push.REJECTED
    assert git(remote, "rev-parse", "main") == shas[0]
    syncs[1].fetch()
    assert syncs[1].reset_to_base() == shas[0]  # the loser starts over from the winner's commit
    assert syncs[1].push(shas[1], "snapshot/refresh", force=True) is Push.PUSHED
    assert redact("https://x-access-token:s3cret@github.com/o/r.git") == "https://***@github.com/o/r.git"


@pytest.mark.parametrize(("text", "expected"), [
    ("snapshot:\n  autoDeploy:\n    enabled: true\n    maxRemovedPercent: 34\n", (True, 34)),
    ("snapshot:\n  autoDeploy:\n    enabled: true\n", (True, 50)),
    ("snapshot:\n  maxAge: 6h\n", (False, 50)),
    ("", (False, 50)),
])
def test_auto_deploy_config_defaults_to_off_with_a_50_percent_limit(text, expected, tmp_path) -> None:
    from renderer.config import load_config
    from renderer.source import WorkTree

    (tmp_path / "as3-gitops.yaml").write_text(text or "bigip:\n  partition: kubernetes\n")
    config, findings = load_config(WorkTree(tmp_path))
    assert findings == []
    assert (config.snapshot_auto_deploy.enabled, config.snapshot_auto_deploy.max_removed_percent) == expected


@pytest.mark.parametrize(("text", "finding"), [
    ("snapshot:\n  autoDeploy:\n    enabled: true\n    maxRemoved: 10\n",
     "as3-gitops.yaml:4:5: error: CFG002 unknown key 'snapshot.autoDeploy.maxRemoved' in as3-gitops.yaml"),
    ("snapshot:\n  autoDeploy:\n    maxRemovedPercent: 150\n",
     "as3-gitops.yaml:3:24: error: CFG003 snapshot.autoDeploy.maxRemovedPercent: 150 is greater than the maximum of 100"),
    ("snapshot:\n  autoDeploy: true\n",
     "as3-gitops.yaml:2:15: error: CFG003 snapshot.autoDeploy: True is not of type 'object', 'null'"),
])
def test_bad_auto_deploy_config_is_a_finding_at_its_line(text, finding, tmp_path) -> None:
    from renderer.config import load_config
    from renderer.source import WorkTree

    (tmp_path / "as3-gitops.yaml").write_text(text)
    _config, findings = load_config(WorkTree(tmp_path))
    assert [f"{f.location}: {f.severity.value}: {f.code} {f.message}" for f in findings] == [finding]
