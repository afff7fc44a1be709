"""`as3-gitops deploy` end to end against the BIG-IP emulator over real HTTP(S).

Each failing case injects its fault at an exact step (through the emulator's control API, when
the deploy announces the step) and then checks the two promises: exit code 3 and the device's
configuration byte-identical to the pre-deploy state.
"""

from __future__ import annotations

import json

import pytest

from bigip.deploy_harness import (
    FAST,
    HELLO,
    basic_post,
    bookkeeping,
    change_member_by_hand,
    config_view,
    deploy_args,
    move_pod,
    run_cli,
    two_tenant_repo,
    writes,
)
from renderer.bigip import tenants as tn
from renderer.render import render

DECLARE = "/mgmt/shared/appsvcs/declare"


pytestmark = pytest.mark.usefixtures("emulator_credentials")


def assert_device_runs(emulator, repo, ref: str | None = None, result=None, state=None) -> None:
    """The device's tenants and net objects equal the render of `ref` (or the given render result)."""
    result = result or render(repo.path, ref)
    state = state or emulator.control.state()
    rendered = tn.tenants_of(result.adc)
    assert {k: tn.normalise(v) for k, v in state["as3"]["tenants"].items()} == {
        k: tn.normalise(v) for k, v in rendered.items()
    }
    net = state["net"]
    assert {(r["name"], r["endpoint"]) for r in net["fdb"]["/Common/flannel_vxlan"]} == {
        (r["name"], r["endpoint"] + "%0") for r in result.net["fdb"]["records"]
    }
    assert {(a["name"], a["ipAddress"], a["macAddress"]) for a in net["arps"].values()} == {
        (a["name"], a["ipAddress"], a["macAddress"]) for a in result.net["arps"]
    }
    assert net["tunnels"]["/Common/flannel_vxlan"]["localAddress"] == result.net["tunnel"]["localAddress"]
    assert net["selfs"]["/Common/flannel_vxlan_self"]["address"] == result.net["selfIP"]["address"]
    assert state["as3"]["meta"]["remark"] == f"as3-gitops {result.identity}"


def deployed(emulator, make_repo):
    """A two-tenant repo whose first commit is deployed; the request log is cleared."""
    repo = two_tenant_repo(make_repo)
    first = run_cli(deploy_args(repo, emulator, "--ref", "HEAD"))
    assert first.code == 0, first.err
    emulator.control.clear_log()
    return repo


@pytest.mark.bigip_emulator(tls=True)
def test_first_deploy_over_https_makes_the_device_equal_the_render(bigip_emulator, make_repo, tmp_path) -> None:
    repo = make_repo(HELLO)
    sha = repo.commit(message="noop")
    md = tmp_path / "summary.md"
    run = run_cli(
        deploy_args(
            repo, bigip_emulator, "--ref", sha, "--report", str(tmp_path / "r.json"), "--report-markdown", str(md)
        )
    )
    assert (run.code, run.out) == (0, f"deployed {sha}: tenants kubernetes, network changed\n")
    assert_device_runs(bigip_emulator, repo, sha)
    state = bigip_emulator.control.state()
    assert state["saveCount"] == 1  # persisted once, on the last write
    report = json.loads((tmp_path / "r.json").read_text())
    assert [(s["name"], s["result"]) for s in report["steps"]] == [
        ("lock", "ok"),
        ("journal", "ok"),
        ("preflight", "ok"),
        ("lease", "ok"),
        ("dry-run", "ok"),
        ("journal", "ok"),
        ("network (make)", "ok"),
        ("apply", "ok"),
        ("verify", "ok"),
        ("network (prune)", "ok"),
        ("save", "ok"),
        ("journal", "ok"),
    ]
    lock = "/mgmt/tm/ltm/data-group/internal"
    assert bookkeeping(state["requestLog"]) == [
        f"POST {lock}",  # the lock, before any other request but the login
        f"GET {lock}/~Common~as3-gitops-journal",  # no unfinished deploy
        f"POST {lock}",  # the intent, after the dry-run, before the first write
        f"DELETE {lock}/~Common~as3-gitops-journal",
        f"GET {lock}/~Common~as3-gitops-lock",  # still ours?
        f"DELETE {lock}/~Common~as3-gitops-lock",
    ]
    assert state["ltm"]["dataGroups"] == {}
    assert report["requests"] == len(state["requestLog"])
    assert report["outcome"] == "deployed" and report["tenants_changed"] == ["kubernetes"]
    assert report["commit"] == sha and report["device_commit"] is None
    assert report["state_hash_after"].startswith("sha256:") and report["bytes_sent"] > 0
    lines = md.read_text().splitlines()
    assert lines[0] == "## as3-gitops deploy: deployed"
    assert f"- commit: `{sha}`" in lines and "- tenants changed: `kubernetes`" in lines
    assert "| step | result | seconds | detail |" in lines
    assert any(line.startswith("| apply | ok | ") and line.endswith(" | posted kubernetes |") for line in lines)


def test_second_deploy_of_the_same_commit_sends_no_write(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    before = config_view(bigip_emulator.control.state())
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", "HEAD"))
    sha = repo.commit(message="empty")  # a commit that changes nothing rendered: still no write
    run2 = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert (run.code, run2.code) == (0, 0)
    assert run2.out == f"no change: the device already runs {sha}\n"
    state = bigip_emulator.control.state()
    assert writes(state["requestLog"]) == []
    assert config_view(state) == before


def test_endpoint_change_posts_only_that_tenant_and_unions_arps_before_pruning(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert (run.code, run.out) == (0, f"deployed {sha}: tenants kubernetes, network changed\n")
    assert_device_runs(bigip_emulator, repo, sha)
    w = writes(bigip_emulator.control.state()["requestLog"])
    declares = [x for x in w if DECLARE in x]
    assert declares == [
        f"POST {DECLARE}/kubernetes",
        f"POST {DECLARE}/kubernetes?async=true",
        f"POST {DECLARE}/kubernetes?async=true",
    ]  # dry-run, apply, the persisting post
    add = w.index("POST /mgmt/tm/net/arp")
    apply = w.index(f"POST {DECLARE}/kubernetes?async=true")
    remove = w.index("DELETE /mgmt/tm/net/arp/~Common~k8s-10.10.2.7")
    assert add < apply < remove  # make (union) before AS3 moves the pool, break (prune) after


def test_dry_run_posts_only_the_dry_run(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    before = config_view(bigip_emulator.control.state())
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha, "--dry-run"))
    assert run.code == 0
    assert run.out == f"dry-run passed for {sha}: tenants kubernetes, network changes; nothing written\n"
    state = bigip_emulator.control.state()
    assert writes(state["requestLog"]) == [f"POST {DECLARE}/kubernetes"]
    assert config_view(state) == before


def test_busy_twice_then_success(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    bigip_emulator.control.faults([{"kind": "busy", "times": 2}])
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert run.code == 0, run.err
    assert_device_runs(bigip_emulator, repo, sha)
    statuses = [
        e["status"]
        for e in bigip_emulator.control.state()["requestLog"]
        if e["path"].startswith(DECLARE) and e["method"] == "POST"
    ]
    assert statuses[:3] == [503, 503, 200]


def test_token_expiry_mid_deploy_renews_the_token(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    run = run_cli(
        deploy_args(repo, bigip_emulator, "--ref", sha),
        {"apply": lambda: bigip_emulator.control.faults([{"kind": "token-expire"}])},
    )
    assert run.code == 0, run.err
    assert_device_runs(bigip_emulator, repo, sha)
    log = bigip_emulator.control.state()["requestLog"]
    logins = [i for i, e in enumerate(log) if e["path"] == "/mgmt/shared/authn/login"]
    assert len(logins) == 2 and log[logins[1] - 1]["status"] == 401


@pytest.mark.bigip_emulator(async_threshold=0.2)
def test_slow_synchronous_post_turns_into_202_and_is_polled(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    bigip_emulator.control.faults([{"kind": "slow", "path": DECLARE, "method": "POST", "seconds": 0.6}])
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert run.code == 0, run.err
    assert_device_runs(bigip_emulator, repo, sha)
    log = bigip_emulator.control.state()["requestLog"]
    dry = next(e for e in log if e["path"] == f"{DECLARE}/kubernetes")
    assert dry["status"] == 202
    assert any(e["path"].startswith("/mgmt/shared/appsvcs/task/") for e in log)


def test_dropped_connection_while_polling_is_retried(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    drop = [{"kind": "drop-connection", "path": "/mgmt/shared/appsvcs/task/", "method": "GET"}]
    run = run_cli(
        deploy_args(repo, bigip_emulator, "--ref", sha), {"apply": lambda: bigip_emulator.control.faults(drop)}
    )
    assert run.code == 0, run.err
    assert_device_runs(bigip_emulator, repo, sha)


# -- failures: exit 3 and the pre-deploy configuration, byte for byte ---------------------------

ALL = "restored tenant kubernetes, tenant second, network"
FAILURES = {
    "tenant-fail on the second of two tenants (207)": (
        "apply",
        ALL,
        [{"kind": "tenant-fail", "tenant": "second", "code": 422, "response": "01070734:3: Configuration error: x"}],
    ),
    "HTTP 500 with an HTML body": (
        "apply",
        ALL,
        [{"kind": "http-500", "path": DECLARE, "method": "POST", "html": True}],
    ),
    "dropped connection during the POST (after AS3 applied it)": (
        "apply",
        ALL,
        [{"kind": "drop-connection", "path": DECLARE, "method": "POST", "after": True}],
    ),
    "dropped connection during polling, every retry": (
        "apply",
        ALL,
        [{"kind": "drop-connection", "path": "/mgmt/shared/appsvcs/task/", "method": "GET", "times": 6}],
    ),
    "transaction fails at step 5 (make)": ("network (make)", "nothing had changed", [{"kind": "transaction-fail"}]),
    "transaction fails at step 8 (prune)": ("network (prune)", ALL, [{"kind": "transaction-fail"}]),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_failure_rolls_back_to_the_exact_previous_state(case: str, bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    move_pod(repo, "10.10.2.7", "10.10.2.8")
    sha = move_pod(repo, "10.10.2.20", "10.10.2.21", "snapshot/echo-endpoints.yaml")  # both tenants change
    before = config_view(bigip_emulator.control.state())
    step, restored, faults = FAILURES[case]
    run = run_cli(
        deploy_args(repo, bigip_emulator, "--ref", sha), {step: lambda: bigip_emulator.control.faults(faults)}
    )
    assert run.code == 3, run.err
    assert config_view(bigip_emulator.control.state()) == before
    assert f"deploy: {step}: failed: " in run.err
    assert f"deploy: rollback: {restored}\n" in run.err
    assert "failed  " in run.err  # the table of what failed and what was restored


def test_timeout_rolls_back(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    before = config_view(bigip_emulator.control.state())
    slow = [{"kind": "slow", "path": DECLARE, "method": "POST", "seconds": 1.5}]
    run = run_cli(
        deploy_args(repo, bigip_emulator, "--ref", sha, "--timeout", "0.5"),
        {"apply": lambda: bigip_emulator.control.faults(slow)},
    )
    assert run.code == 3, run.err
    assert "still running at the deadline" in run.err
    assert config_view(bigip_emulator.control.state()) == before


def test_dry_run_failure_stops_before_any_write_and_shows_as3s_error(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    before = config_view(bigip_emulator.control.state())
    bigip_emulator.control.faults([{"kind": "tenant-fail", "tenant": "kubernetes", "response": "01070734:3: bad pool"}])
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert run.code == 3
    assert "error: AS3 dry-run failed: kubernetes: 422 declaration failed: 01070734:3: bad pool\n" in run.err
    state = bigip_emulator.control.state()
    assert writes(state["requestLog"]) == [f"POST {DECLARE}/kubernetes"]
    assert config_view(state) == before


def test_failed_restore_exits_4_and_names_the_objects_in_neither_state(bigip_emulator, make_repo, tmp_path) -> None:
    repo = deployed(bigip_emulator, make_repo)
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    fail = [{"kind": "tenant-fail", "tenant": "kubernetes", "times": 2}]  # the apply and the restore
    bad = [{"kind": "transaction-fail", "times": 1}]  # the prune fails once the pool moved
    run = run_cli(
        deploy_args(repo, bigip_emulator, "--ref", sha, "--report", str(tmp_path / "r.json")),
        {
            "network (prune)": lambda: bigip_emulator.control.faults(bad),
            "rollback": lambda: bigip_emulator.control.faults(fail),
        },
    )
    assert run.code == 4, run.err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["outcome"] == "restore failed"
    # AS3 still has the new pool, the network the union: each object is old or new, none is in neither
    assert report["not_restored"] == [
        "/kubernetes/Shared/cfgmap_default_vs_02_hello_world_svc",
        "/kubernetes/Shared/ingress_default_vs_01_hello_world_svc_80",
        "/net/arps/10.10.2.8",
    ]
    assert report["differs"] == []
    assert "not restored  /net/arps/10.10.2.8\n" in run.err
    assert "in neither the old nor the new state: none" in run.err


# -- lease and drift ------------------------------------------------------------------------------


def test_drift_stops_the_deploy_with_exit_3_and_prints_it(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    change_member_by_hand(bigip_emulator, repo)
    sha = move_pod(repo, "10.10.2.20", "10.10.2.21", "snapshot/echo-endpoints.yaml")
    before = config_view(bigip_emulator.control.state())
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert run.code == 3
    assert "the device differs from commit" in run.err and "tenant kubernetes" in run.err
    assert run.out.startswith(
        "drift: the device differs from the commit it runs (changes made outside git):\nas3-gitops diff (default): git "
    )
    assert '      + members[10.10.1.99:9000]: {"addressDiscovery": "static", "servicePort": 9000}\n' in run.out
    assert config_view(bigip_emulator.control.state()) == before


def test_drift_is_overwritten_with_force(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    change_member_by_hand(bigip_emulator, repo)
    sha = move_pod(repo, "10.10.2.20", "10.10.2.21", "snapshot/echo-endpoints.yaml")
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha, "--force"))
    assert run.code == 0, run.err
    assert_device_runs(bigip_emulator, repo, sha)


def test_device_with_foreign_tenant_content_is_not_adopted_without_force(bigip_emulator, make_repo) -> None:
    repo = two_tenant_repo(make_repo)
    foreign = render(repo.path).adc
    foreign = {**foreign, "id": "cis-123", "remark": "written by CIS"}
    foreign["kubernetes"] = {k: v for k, v in foreign["kubernetes"].items() if k != "label"}
    assert basic_post(bigip_emulator, DECLARE, foreign).status_code == 200
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", "HEAD"))
    assert run.code == 3
    assert "error: the device was not deployed by as3-gitops and tenant(s) kubernetes, second are in use\n" in run.err
    forced = run_cli(deploy_args(repo, bigip_emulator, "--ref", "HEAD", "--force"))
    assert forced.code == 0, forced.err
    assert_device_runs(bigip_emulator, repo, "HEAD")


def test_a_dirty_working_tree_deploy_is_replaced_only_with_force(bigip_emulator, make_repo) -> None:
    repo = two_tenant_repo(make_repo)
    endpoints = repo.path / "snapshot/endpoints.yaml"
    endpoints.write_text(endpoints.read_text() + "# uncommitted\n")  # dirty: the deploy is "working tree"
    assert run_cli(deploy_args(repo, bigip_emulator)).code == 0
    assert bigip_emulator.control.state()["as3"]["meta"]["remark"] == "as3-gitops working tree"
    assert run_cli(deploy_args(repo, bigip_emulator)).code == 0  # unchanged: "no change"
    endpoints.write_text(endpoints.read_text().replace("ip: 10.10.2.7\n", "ip: 10.10.2.8\n"))
    run = run_cli(deploy_args(repo, bigip_emulator))
    assert run.code == 3
    assert "error: the device runs a working-tree deploy, which cannot be checked against git\n" in run.err
    assert "--ref" not in run.err.split("hint:")[1]  # the way out is review + --force, not a flag that fails again
    assert run_cli(deploy_args(repo, bigip_emulator, "--force")).code == 0
    assert_device_runs(bigip_emulator, repo)


def test_a_clean_checkout_deploys_as_its_commit_and_a_later_change_deploys(bigip_emulator, make_repo) -> None:
    """Issue 16 item 3: `deploy .` of a clean checkout records HEAD (like git describe --dirty), so the
    next deploy, of a commit or of an edited (dirty) tree, is checked against it and goes through."""
    repo = two_tenant_repo(make_repo)
    head = repo.git("rev-parse", "HEAD")
    first = run_cli(deploy_args(repo, bigip_emulator))
    assert first.code == 0, first.err
    assert first.out == f"deployed {head}: tenants kubernetes, second, network changed\n"
    assert bigip_emulator.control.state()["as3"]["meta"]["remark"] == f"as3-gitops {head}"
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")  # committed: still clean
    second = run_cli(deploy_args(repo, bigip_emulator))
    assert second.code == 0, second.err
    assert_device_runs(bigip_emulator, repo, sha)
    endpoints = repo.path / "snapshot/endpoints.yaml"  # an uncommitted change on top of the deployed commit
    endpoints.write_text(endpoints.read_text().replace("ip: 10.10.2.8\n", "ip: 10.10.2.9\n"))
    third = run_cli(deploy_args(repo, bigip_emulator))
    assert third.code == 0, third.err
    assert third.out.startswith("deployed working tree: ")
    assert_device_runs(bigip_emulator, repo)


def test_a_config_folder_below_the_git_root_deploys_by_ref(bigip_emulator, make_repo, tmp_path) -> None:
    """Issue 16 item 2: envs/prod and envs/staging in one repository, one BIG-IP each."""
    import shutil

    mono = make_repo()
    for env in ("prod", "staging"):
        shutil.copytree(HELLO, mono.path / "envs" / env)
    (mono.path / "README.md").write_text("platform repo\n")
    mono.commit(message="two environments")
    prod = mono.path / "envs" / "prod"
    run = run_cli(["deploy", str(prod), "--host", bigip_emulator.url, *FAST, "--ref", "HEAD"])
    assert run.code == 0, run.err
    result = render(prod, "HEAD")
    assert result.ok and result.identity == mono.git("rev-parse", "HEAD")
    assert bigip_emulator.control.state()["as3"]["meta"]["remark"] == f"as3-gitops {result.identity}"
    staging = mono.path / "envs" / "staging" / "snapshot" / "endpoints.yaml"
    staging.write_text(staging.read_text().replace("ip: 10.10.2.7\n", "ip: 10.10.2.8\n"))
    mono.commit(message="staging: pod moved")  # prod unchanged at the new commit
    again = run_cli(["deploy", str(prod), "--host", bigip_emulator.url, *FAST])  # clean: HEAD, lease checked
    assert again.code == 0, again.err
    assert again.out.startswith("no change")


def test_a_commit_missing_from_the_repository_cannot_be_leased(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    other = two_tenant_repo(make_repo)
    sha = move_pod(other, "10.10.2.7", "10.10.2.8")
    run = run_cli(deploy_args(other, bigip_emulator, "--ref", sha))
    assert repo.path != other.path
    assert run.code == 0  # same history (fixed dates): the lease commit exists in `other` too
    third = make_repo(HELLO)
    run = run_cli(deploy_args(third, bigip_emulator, "--ref", "HEAD"))
    assert run.code == 3
    assert f"error: the device runs {sha}, which cannot be rendered from this repository\n" in run.err


def test_invalid_manifests_exit_2_before_any_device_request(bigip_emulator, make_repo) -> None:
    repo = two_tenant_repo(make_repo)
    sha = repo.commit({"manifests/broken.yaml": "kind: Ingress\nmetadata: [unclosed\n"}, message="broken")
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert run.code == 2
    assert "manifests/broken.yaml:" in run.err and ": error: " in run.err
    assert bigip_emulator.control.state()["requestLog"] == []


def test_a_tenant_whose_last_ingress_is_deleted_is_deleted_on_the_device(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    sha = repo.commit({"manifests/echo.yaml": None, "snapshot/echo-endpoints.yaml": None}, message="drop echo")
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert (run.code, run.out) == (0, f"deployed {sha}: tenants second, network changed\n")
    state = bigip_emulator.control.state()
    assert sorted(state["as3"]["tenants"]) == ["kubernetes"]
    assert "/Common/k8s-10.10.2.20" not in state["net"]["arps"]
    assert f"POST {DECLARE}/second?async=true" in writes(state["requestLog"])


def test_tenants_without_our_marker_are_never_touched(bigip_emulator, make_repo) -> None:
    foreign = {
        "class": "ADC",
        "schemaVersion": "3.56.0",
        "id": "by-hand",
        "other": {
            "class": "Tenant",
            "app": {
                "class": "Application",
                "template": "generic",
                "p": {"class": "Pool", "members": [{"servicePort": 80, "serverAddresses": ["10.9.9.9"]}]},
            },
        },
    }
    assert basic_post(bigip_emulator, DECLARE, foreign).status_code == 200
    repo = two_tenant_repo(make_repo)
    assert run_cli(deploy_args(repo, bigip_emulator, "--ref", "HEAD")).code == 0  # rendered tenants were empty
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    assert run_cli(deploy_args(repo, bigip_emulator, "--ref", sha)).code == 0
    state = bigip_emulator.control.state()
    assert state["as3"]["tenants"]["other"] == foreign["other"]
    assert not [w for w in writes(state["requestLog"]) if "other" in w]


def test_installed_entry_point_deploys_in_a_subprocess(bigip_emulator, make_repo) -> None:
    import os
    import subprocess
    import sys

    repo = two_tenant_repo(make_repo)
    sha = repo.commit(message="noop")
    env = {**os.environ, "BIGIP_USERNAME": bigip_emulator.username, "BIGIP_PASSWORD": bigip_emulator.password}
    proc = subprocess.run(
        [sys.executable, "-m", "renderer", *deploy_args(repo, bigip_emulator, "--ref", "HEAD")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"deployed {sha}: tenants kubernetes, second, network changed\n"
    assert_device_runs(bigip_emulator, repo, sha)


def test_nodeport_mode_deploys_without_touching_the_network(bigip_emulator, make_repo) -> None:
    repo = make_repo(HELLO)
    config = (repo.path / "as3-gitops.yaml").read_text().replace("poolMemberType: cluster", "poolMemberType: nodeport")
    service = (repo.path / "manifests/service.yaml").read_text()
    service = service.replace("  clusterIP: None\n", "  type: NodePort\n")
    service = service.replace("      targetPort: 9000\n", "      targetPort: 9000\n      nodePort: 30080\n")
    sha = repo.commit({"as3-gitops.yaml": config, "manifests/service.yaml": service}, message="nodeport")
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert (run.code, run.out) == (0, f"deployed {sha}: tenants kubernetes, network unchanged\n")
    state = bigip_emulator.control.state()
    assert not [w for w in writes(state["requestLog"]) if "/mgmt/tm/" in w]
    assert state["saveCount"] == 1
    assert run_cli(deploy_args(repo, bigip_emulator, "--ref", sha)).out == f"no change: the device already runs {sha}\n"
