"""`snapshot capture` through the real kubernetes client against an HTTPS API stand-in on 127.0.0.1."""

from __future__ import annotations

import sys

import pytest
from snapshot_helpers import GOLDEN, KUBECTL_ALL, git_out
from snapshot_kubeapi import status_body

from renderer.snapshot import capture as capture_module


@pytest.fixture
def api(kube_api):
    kube_api.load_kubectl_yaml(KUBECTL_ALL)
    return kube_api


def _files(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_capture_writes_the_same_files_as_normalizing_kubectl_output(cli, api, snapshot_repo) -> None:
    kubeconfig = api.write_kubeconfig()
    result = cli("snapshot", "capture", str(snapshot_repo.path), "--kubeconfig", str(kubeconfig))
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "snapshot: 3 nodes, 2 endpoints, 3 endpointslices (2 referenced Service(s)) -> snapshot/ (per-kind)\n"
        "  wrote snapshot/endpoints.yaml\n"
        "  wrote snapshot/endpointslices.yaml\n"
        "  wrote snapshot/nodes.yaml\n")
    assert _files(snapshot_repo.path / "snapshot") == _files(GOLDEN / "per-kind")
    assert {path for path, _q, _auth in api.requests} == {
        "/api/v1/nodes", "/api/v1/endpoints", "/apis/discovery.k8s.io/v1/endpointslices"}
    assert {auth for _p, _q, auth in api.requests} == {f"Bearer {api.token}"}


def test_capturing_an_unchanged_cluster_twice_leaves_files_byte_identical(cli, api, snapshot_repo) -> None:
    kubeconfig = str(api.write_kubeconfig())
    assert cli("snapshot", "capture", str(snapshot_repo.path), "--kubeconfig", kubeconfig).code == 0
    first = _files(snapshot_repo.path / "snapshot")
    mtimes = {p: p.stat().st_mtime_ns for p in (snapshot_repo.path / "snapshot").iterdir()}
    api.resource_version = "999999"  # the API moved on; the objects did not
    api.objects["Node"].reverse()
    second = cli("snapshot", "capture", str(snapshot_repo.path), "--kubeconfig", kubeconfig)
    assert second.out.endswith("  files unchanged\n")
    assert _files(snapshot_repo.path / "snapshot") == first
    assert {p: p.stat().st_mtime_ns for p in (snapshot_repo.path / "snapshot").iterdir()} == mtimes


def test_capture_follows_continue_tokens_across_pages(cli, api, snapshot_repo, monkeypatch) -> None:
    monkeypatch.setattr(capture_module, "PAGE_SIZE", 1)
    result = cli("snapshot", "capture", str(snapshot_repo.path), "--kubeconfig", str(api.write_kubeconfig()),
                 "--all-services")
    assert result.code == 0
    node_pages = [q for path, q, _a in api.requests if path == "/api/v1/nodes"]
    assert [q.get("continue", [""])[0] for q in node_pages] == ["", "1", "2"]
    assert {q["limit"][0] for q in node_pages} == {"1"}
    assert result.out.startswith("snapshot: 3 nodes, 3 endpoints, 3 endpointslices (all Services)")


def test_namespace_option_lists_only_those_namespaces(cli, api, snapshot_repo) -> None:
    result = cli("snapshot", "capture", str(snapshot_repo.path), "--kubeconfig", str(api.write_kubeconfig()),
                 "-n", "shop")
    assert result.code == 0
    assert sorted({path for path, _q, _a in api.requests}) == [
        "/api/v1/namespaces/shop/endpoints", "/api/v1/nodes",
        "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices"]
    assert result.out.startswith("snapshot: 3 nodes, 1 endpoints, 2 endpointslices (2 referenced Service(s))")


def test_context_option_picks_the_kubeconfig_context(cli, api, snapshot_repo) -> None:
    kubeconfig = api.write_kubeconfig(context="prod")
    missing = cli("snapshot", "capture", str(snapshot_repo.path), "--kubeconfig", str(kubeconfig),
                  "--context", "staging")
    assert missing.code == 2
    assert missing.err.startswith(f"error: cannot load Kubernetes credentials from {kubeconfig}: ")
    ok = cli("snapshot", "capture", str(snapshot_repo.path), "--kubeconfig", str(kubeconfig), "--context", "prod")
    assert ok.code == 0


def test_forbidden_list_exits_3_and_writes_nothing(cli, api, snapshot_repo) -> None:
    api.failures["/apis/discovery.k8s.io/v1/endpointslices"] = (403, status_body(
        403, "Forbidden", 'endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:x:y" cannot '
        'list resource "endpointslices"'))
    result = cli("snapshot", "capture", str(snapshot_repo.path), "--kubeconfig", str(api.write_kubeconfig()))
    assert result.code == 3
    assert result.err == (
        "error: GET /apis/discovery.k8s.io/v1/endpointslices: 403 Forbidden\n"
        "  hint: the account needs get/list on nodes, endpoints and endpointslices (see examples/snapshot-cronjob)\n")
    assert result.out == ""
    assert not (snapshot_repo.path / "snapshot").exists()


def test_wrong_token_is_reported_as_unauthorized(cli, api, snapshot_repo) -> None:
    kubeconfig = api.write_kubeconfig()
    kubeconfig.write_text(kubeconfig.read_text().replace(api.token, "stale-token"))
    result = cli("snapshot", "capture", str(snapshot_repo.path), "--kubeconfig", str(kubeconfig))
    assert (result.code, result.err.splitlines()[0]) == (3, "error: GET /api/v1/nodes: 401 Unauthorized")


def test_unreachable_api_exits_3(cli, api, snapshot_repo) -> None:
    kubeconfig = api.write_kubeconfig()
    url = api.url
    api.stop()
    result = cli("snapshot", "capture", str(snapshot_repo.path), "--kubeconfig", str(kubeconfig))
    assert result.code == 3
    assert result.err.startswith(f"error: cannot reach the Kubernetes API at {url}: ")
    assert "Traceback" not in result.err


def test_missing_kubernetes_client_says_how_to_install_it(cli, snapshot_repo, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes", None)  # import kubernetes -> ImportError
    result = cli("snapshot", "capture", str(snapshot_repo.path))
    assert result.code == 2
    assert result.err == (
        "error: `snapshot capture` needs the kubernetes Python client, which is not installed\n"
        f"  hint: {capture_module.MISSING_CLIENT_HINT}\n")


def test_capture_with_commit_records_the_source_context(cli, api, snapshot_repo) -> None:
    kubeconfig = api.write_kubeconfig(context="prod")
    result = cli("snapshot", "capture", str(snapshot_repo.path), "--kubeconfig", str(kubeconfig),
                 "--context", "prod", "--commit")
    assert result.code == 0
    body = git_out(snapshot_repo.path, "log", "-1", "--format=%b")
    assert "from kube context 'prod'." in body.splitlines()[0]


def test_in_cluster_capture_uses_the_service_account(cli, api, snapshot_repo, tmp_path, monkeypatch) -> None:
    import kubernetes.config.incluster_config as incluster

    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text(api.token)
    api.ca.cert_pem.write_to_path(str(ca))
    monkeypatch.setattr(incluster, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster, "SERVICE_CERT_FILENAME", str(ca))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", api.url.rsplit(":", 1)[1])
    result = cli("snapshot", "capture", str(snapshot_repo.path), "--in-cluster", "--commit")
    assert result.code == 0
    assert git_out(snapshot_repo.path, "log", "-1", "--format=%b").splitlines()[0].endswith(
        "Z from the in-cluster API.")
    assert {auth for _p, _q, auth in api.requests} == {f"bearer {api.token}"}  # as the client spells it


def test_in_cluster_outside_a_pod_is_a_usage_error(cli, snapshot_repo, monkeypatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    result = cli("snapshot", "capture", str(snapshot_repo.path), "--in-cluster")
    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "error: cannot load Kubernetes credentials from in-cluster service account: Service host/port is not set.")


def test_kubeconfig_defaults_to_the_KUBECONFIG_variable(cli, api, snapshot_repo, monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(api.write_kubeconfig()))
    result = cli("snapshot", "capture", str(snapshot_repo.path))
    assert (result.code, result.err) == (0, "")
    assert (snapshot_repo.path / "snapshot" / "nodes.yaml").read_bytes() == (
        GOLDEN / "per-kind" / "nodes.yaml").read_bytes()
