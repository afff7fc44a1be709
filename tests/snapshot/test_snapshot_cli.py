"""`snapshot normalize` end to end: files, --commit (only when changed, message counts), --branch, errors."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml
from snapshot_helpers import GOLDEN, KUBECTL_ALL, git_out

from renderer.snapshot.commit import Changes, commit_message, subject
from renderer.snapshot.write import HEADER

RAW = KUBECTL_ALL.read_bytes()


def _head(repo) -> str:
    return git_out(repo.path, "rev-parse", "HEAD").strip()


def _edit(change) -> bytes:
    data = yaml.safe_load(RAW)
    change(data["items"])
    return yaml.safe_dump(data).encode()


def test_normalize_from_stdin_writes_the_golden_files(cli, snapshot_repo) -> None:
    result = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), stdin=RAW)
    assert (result.code, result.err) == (0, "")
    written = {p.name: p.read_bytes() for p in (snapshot_repo.path / "snapshot").iterdir()}
    assert written == {p.name: p.read_bytes() for p in (GOLDEN / "per-kind").iterdir()}


def test_stdout_prints_the_objects_and_writes_nothing(cli, snapshot_repo) -> None:
    result = cli("snapshot", "normalize", str(KUBECTL_ALL), "-C", str(snapshot_repo.path), "--stdout")
    assert result.code == 0
    assert not (snapshot_repo.path / "snapshot").exists()
    docs = list(yaml.safe_load_all(result.out))
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("EndpointSlice", "metrics-m3tr1"), ("EndpointSlice", "web-8xk2d"), ("EndpointSlice", "web-v6q4n"),
        ("Endpoints", "metrics"), ("Endpoints", "web"),
        ("Node", "worker-1"), ("Node", "worker-2"), ("Node", "worker-3")]


def test_commit_is_made_once_and_not_again_for_an_unchanged_cluster(cli, snapshot_repo) -> None:
    before = _head(snapshot_repo)
    first = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), "--commit", stdin=RAW)
    assert first.code == 0
    sha = _head(snapshot_repo)
    assert sha != before
    assert first.out.splitlines()[-1] == (
        f"committed {sha[:12]} on main: snapshot: +3 nodes, +2 endpoints, +3 endpointslices")
    message = git_out(snapshot_repo.path, "log", "-1", "--format=%B").rstrip("\n")
    lines = message.splitlines()
    assert lines[0] == "snapshot: +3 nodes, +2 endpoints, +3 endpointslices"
    assert lines[2].startswith("Captured at 20") and lines[2].endswith("Z from kubectl output (<stdin>).")
    assert lines[4:] == [
        "+ EndpointSlice monitoring/metrics-m3tr1", "+ EndpointSlice shop/web-8xk2d",
        "+ EndpointSlice shop/web-v6q4n", "+ Endpoints monitoring/metrics", "+ Endpoints shop/web",
        "+ Node worker-1", "+ Node worker-2", "+ Node worker-3"]
    assert git_out(snapshot_repo.path, "show", "--name-only", "--format=", "HEAD").split() == [
        "snapshot/endpoints.yaml", "snapshot/endpointslices.yaml", "snapshot/nodes.yaml"]
    again = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), "--commit", stdin=RAW)
    assert again.code == 0
    assert again.out.splitlines()[-2:] == ["  files unchanged", "nothing changed: no commit"]
    assert _head(snapshot_repo) == sha


def test_commit_message_counts_added_removed_and_changed_objects(cli, snapshot_repo) -> None:
    assert cli("snapshot", "normalize", "-C", str(snapshot_repo.path), "--commit", stdin=RAW).code == 0

    def change(items):
        items[:] = [i for i in items if i["metadata"]["name"] != "worker-3"]  # -1 node
        for item in items:
            if item["kind"] == "Endpoints" and item["metadata"]["name"] == "web":  # ~1 endpoints
                item["subsets"][0]["addresses"].pop()
        extra = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-4"},
                 "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.14"}]}}
        items.append(extra)  # +1 node

    result = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), "--commit", stdin=_edit(change))
    assert result.code == 0
    message = git_out(snapshot_repo.path, "log", "-1", "--format=%B").rstrip("\n").splitlines()
    assert message[0] == "snapshot: +1 node, -1 node, ~1 endpoints"
    assert message[4:] == ["+ Node worker-4", "- Node worker-3", "~ Endpoints shop/web"]


def test_commit_leaves_other_changes_in_the_checkout_alone(cli, snapshot_repo) -> None:
    (snapshot_repo.path / "manifests" / "wip.yaml").write_text("# work in progress\n")
    subprocess.run(["git", "add", "manifests/wip.yaml"], cwd=snapshot_repo.path, check=True)
    assert cli("snapshot", "normalize", "-C", str(snapshot_repo.path), "--commit", stdin=RAW).code == 0
    assert "manifests/wip.yaml" not in git_out(snapshot_repo.path, "show", "--name-only", "--format=", "HEAD")
    assert git_out(snapshot_repo.path, "status", "--porcelain").splitlines() == ["A  manifests/wip.yaml"]


def test_branch_is_created_only_when_there_is_something_to_commit(cli, snapshot_repo) -> None:
    first = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), "--commit", "--branch", "snapshot/one",
                stdin=RAW)
    assert first.code == 0
    assert first.out.splitlines()[-1].split(" on ")[1].startswith("snapshot/one: snapshot: +3 nodes")
    assert git_out(snapshot_repo.path, "branch", "--show-current").strip() == "snapshot/one"
    assert git_out(snapshot_repo.path, "log", "-1", "--format=%s", "main").strip() == "initial"
    again = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), "--commit", "--branch", "snapshot/two",
                stdin=RAW)
    assert again.out.splitlines()[-1] == "nothing changed: no commit"
    assert "snapshot/two" not in git_out(snapshot_repo.path, "branch", "--list")


def test_existing_branch_is_refused_before_anything_is_written(cli, snapshot_repo) -> None:
    subprocess.run(["git", "branch", "taken"], cwd=snapshot_repo.path, check=True)
    result = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), "--commit", "--branch", "taken", stdin=RAW)
    assert result.code == 2
    assert result.err == ("error: branch 'taken' already exists\n"
                          "  hint: pick a new name (e.g. with the date) or delete the old branch\n")
    assert not (snapshot_repo.path / "snapshot").exists()


def test_commit_outside_a_git_repository_is_a_usage_error(cli, tmp_path) -> None:
    import shutil

    from snapshot_helpers import FIXTURES

    shutil.copytree(FIXTURES / "repo", tmp_path / "plain")
    result = cli("snapshot", "normalize", "-C", str(tmp_path / "plain"), "--commit", stdin=RAW)
    assert result.code == 2
    assert result.err.startswith(f"error: {tmp_path / 'plain'}: not inside a git repository\n")


def test_commit_of_a_config_folder_below_the_git_root(cli, make_repo) -> None:
    """Issue 16 item 2: a monorepo's envs/prod gets its snapshot committed, and only that folder."""
    import shutil

    from snapshot_helpers import FIXTURES

    mono = make_repo()
    shutil.copytree(FIXTURES / "repo", mono.path / "envs" / "prod")
    (mono.path / "other.txt").write_text("not part of the commit\n")
    mono.commit(message="platform")
    (mono.path / "other.txt").write_text("edited, uncommitted\n")
    result = cli("snapshot", "normalize", "-C", str(mono.path / "envs" / "prod"), "--commit", stdin=RAW)
    assert result.code == 0, result.err
    files = git_out(mono.path, "show", "--name-only", "--format=", "HEAD").split()
    assert files and all(f.startswith("envs/prod/snapshot/") for f in files)
    assert git_out(mono.path, "status", "--porcelain") == " M other.txt\n"


def test_invalid_yaml_on_stdin_points_at_line_and_column(cli, snapshot_repo) -> None:
    result = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), stdin=b"items:\n  - a: b: c\n")
    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "<stdin>:2:9: error: invalid YAML: mapping values are not allowed in this context [SRC001]")
    assert not (snapshot_repo.path / "snapshot").exists()


def test_missing_input_file_is_a_usage_error(cli, snapshot_repo, tmp_path) -> None:
    result = cli("snapshot", "normalize", str(tmp_path / "nope.yaml"), "-C", str(snapshot_repo.path))
    assert (result.code, result.err) == (2, f"error: {tmp_path / 'nope.yaml'}: cannot read: No such file or directory\n")


def test_broken_manifests_stop_the_capture_unless_all_services(cli, snapshot_repo) -> None:
    (snapshot_repo.path / "manifests" / "broken.yaml").write_text("kind: Service\nmetadata: {name: x}\n")
    result = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), stdin=RAW)
    assert result.code == 2
    assert result.err.splitlines()[:2] == [
        "manifests (use --all-services to capture without reading them): invalid input",
        "manifests/broken.yaml:1:1: error: not a Kubernetes object: missing or invalid apiVersion [K8S001]"]
    assert cli("snapshot", "normalize", "-C", str(snapshot_repo.path), "--all-services", stdin=RAW).code == 0


def test_conflicting_options_are_usage_errors(cli, snapshot_repo) -> None:
    repo = str(snapshot_repo.path)
    assert cli("snapshot", "normalize", "-C", repo, "--branch", "b", stdin=RAW).err == "error: --branch needs --commit\n"
    assert cli("snapshot", "normalize", "-C", repo, "-n", "a", "-A", stdin=RAW).err == (
        "error: --namespace and --all-namespaces exclude each other\n")
    assert cli("snapshot", "normalize", "-C", repo, "--stdout", "--commit", stdin=RAW).code == 2


def test_per_namespace_layout_and_switching_back_removes_stale_files(cli, snapshot_repo) -> None:
    config = snapshot_repo.path / "as3-gitops.yaml"
    config.write_text(config.read_text() + "snapshot:\n  layout: per-namespace\n")
    result = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), stdin=RAW)
    assert result.code == 0
    snap = snapshot_repo.path / "snapshot"
    assert sorted(p.relative_to(snap).as_posix() for p in snap.rglob("*.yaml")) == [
        "namespaces/monitoring.yaml", "namespaces/shop.yaml", "nodes.yaml"]
    assert (snap / "namespaces" / "shop.yaml").read_bytes() == (GOLDEN / "per-namespace/namespaces/shop.yaml").read_bytes()
    (snap / "README.md").write_text("notes kept by the user\n")
    config.write_text(config.read_text().replace("layout: per-namespace", "layout: per-kind"))
    result = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), stdin=RAW)
    assert result.out.splitlines()[1:] == [
        "  wrote snapshot/endpoints.yaml", "  wrote snapshot/endpointslices.yaml",
        "  removed snapshot/namespaces/monitoring.yaml", "  removed snapshot/namespaces/shop.yaml"]
    assert sorted(p.relative_to(snap).as_posix() for p in snap.rglob("*")) == [
        "README.md", "endpoints.yaml", "endpointslices.yaml", "nodes.yaml"]


def test_subject_uses_singular_and_plural_nouns() -> None:
    changes = Changes(added=(("Endpoints", "a", "x"), ("Endpoints", "a", "y")), removed=(("Node", "", "n"),),
                      changed=(("EndpointSlice", "a", "s"),))
    assert subject(changes) == "snapshot: -1 node, +2 endpoints, ~1 endpointslice"
    assert subject(Changes()) == "snapshot: rewrite files (no object changed)"


def test_long_change_lists_are_cut_in_the_message() -> None:
    changes = Changes(added=tuple(("Node", "", f"n{i:03}") for i in range(60)))
    lines = commit_message(changes, "2026-01-01T00:00:00Z", "kubectl output (x)").splitlines()
    assert lines[0] == "snapshot: +60 nodes"
    assert len(lines) == 4 + 50 + 1 and lines[-1] == "... and 10 more"


def test_installed_entry_point_runs_normalize(snapshot_repo) -> None:
    exe = os.path.join(os.path.dirname(sys.executable), "as3-gitops")
    proc = subprocess.run([exe, "snapshot", "normalize", "-C", str(snapshot_repo.path), "--stdout"], input=RAW,
                          capture_output=True, check=False)
    assert (proc.returncode, proc.stderr) == (0, b"")
    parts = [(GOLDEN / "per-kind" / n).read_bytes() for n in ("endpointslices.yaml", "endpoints.yaml", "nodes.yaml")]
    assert proc.stdout == HEADER + b"".join(p.removeprefix(HEADER) for p in parts)


def test_first_commit_in_a_repository_without_history(cli, git_repo) -> None:
    from snapshot_helpers import FIXTURES

    git_repo.copy_from(FIXTURES / "repo")
    result = cli("snapshot", "normalize", "-C", str(git_repo.path), "--commit", stdin=RAW)
    assert result.code == 0
    assert git_out(git_repo.path, "log", "--format=%s").splitlines() == [
        "snapshot: +3 nodes, +2 endpoints, +3 endpointslices"]
    # only the snapshot was committed; the rest stays untracked
    assert git_out(git_repo.path, "ls-files").split() == [
        "snapshot/endpoints.yaml", "snapshot/endpointslices.yaml", "snapshot/nodes.yaml"]


def test_snapshot_path_that_is_a_file_is_a_usage_error(cli, snapshot_repo) -> None:
    (snapshot_repo.path / "snapshot").write_text("not a folder\n")
    result = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), stdin=RAW)
    assert result.code == 2
    assert result.err == ("as3-gitops.yaml:1:1: error: paths.snapshot 'snapshot' is a file; the snapshot is "
                          "written as a folder of files\n  hint: point paths.snapshot at a folder (e.g. snapshot)\n")
    assert (snapshot_repo.path / "snapshot").read_text() == "not a folder\n"


def test_write_failure_exits_2_without_a_traceback(cli, snapshot_repo) -> None:
    config = snapshot_repo.path / "as3-gitops.yaml"
    config.write_text(config.read_text() + "snapshot:\n  layout: per-namespace\n")
    snap = snapshot_repo.path / "snapshot"
    snap.mkdir()
    (snap / "namespaces").write_text("a file where the per-namespace folder must go\n")
    result = cli("snapshot", "normalize", "-C", str(snapshot_repo.path), stdin=RAW)
    assert result.code == 2
    assert result.err == f"error: {snap}: cannot write the snapshot: File exists\n"
    # nodes.yaml could have been written, but nothing is moved into place unless everything was
    assert sorted(p.name for p in snap.iterdir()) == ["namespaces"]
