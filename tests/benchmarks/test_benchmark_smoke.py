"""The benchmark at size 50: the synthetic repository renders to what it encodes, and the benchmark
command, the diff scenario and the deploy measurement still work. No timings are asserted."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.checks import DIFF_PLAN, count_mismatches, diff_problems, rendered_counts
from benchmarks.deploy import measure_deploy
from benchmarks.generate import apply_change, commit_all, expected, generate, manifest_files
from benchmarks.measure import diff_cli
from renderer.render import render
from renderer.validate import validate_rendered

REPO_ROOT = Path(__file__).resolve().parents[2]
SIZE_50_COUNTS = {"tenants": 10, "virtual_servers": 50, "pools": 60, "members": 600, "monitors": 60,
                  "policies": 5, "fdb_records": 5, "arps": 500}


def _digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_generated_repository_renders_to_exactly_the_objects_it_encodes(tmp_path: Path) -> None:
    exp = generate(tmp_path / "repo", 50)
    result = render(tmp_path / "repo")
    assert result.findings == []
    assert rendered_counts(result.as3, result.net) == SIZE_50_COUNTS
    assert count_mismatches(exp, result.as3, result.net) == []
    assert (exp.ingresses, exp.services, exp.endpoint_slices, exp.nodes, exp.documents) == (50, 50, 6, 5, 163)


def test_pool_members_are_the_pods_of_the_endpoints_sorted_by_address(tmp_path: Path) -> None:
    generate(tmp_path / "repo", 50)
    result = render(tmp_path / "repo")
    pool = result.adc["tenant7"]["Shared"]["ingress_team_0000_app_00007_svc_00007_80"]
    assert pool["loadBalancingMode"] == "fastest-app-response"
    assert [m["serverAddresses"] for m in pool["members"]] == [
        ["10.128.0.16"], ["10.128.0.17"], ["10.128.1.16"], ["10.128.1.17"], ["10.128.2.16"],
        ["10.128.2.17"], ["10.128.3.16"], ["10.128.3.17"], ["10.128.4.16"], ["10.128.4.17"]]
    assert pool["monitors"] == [{"use": "/tenant7/Shared/ingress_team_0000_app_00007_svc_00007_80_0_http"}]


def test_services_with_endpointslices_take_their_members_from_the_slices(tmp_path: Path) -> None:
    generate(tmp_path / "repo", 50)
    result = render(tmp_path / "repo")
    origins = result.sources["/tenant5/Shared/ingress_team_0000_app_00005_svc_00005_80"]
    assert [(o.kind, o.name) for o in origins if o.kind.startswith("Endpoint")] == [
        ("EndpointSlice", "svc-00005-0"), ("EndpointSlice", "svc-00005-1")]
    members = result.adc["tenant5"]["Shared"]["ingress_team_0000_app_00005_svc_00005_80"]["members"]
    assert len(members) == 10


def test_fanout_ingress_routes_three_paths_to_three_pools(tmp_path: Path) -> None:
    generate(tmp_path / "repo", 50)
    shared = render(tmp_path / "repo").adc["tenant0"]["Shared"]
    policy = shared["Ingress_172_16_0_1_80"]
    assert [r["actions"][0]["select"]["pool"]["use"] for r in policy["rules"]] == [
        "ingress_team_0000_app_00000_svc_00002_80", "ingress_team_0000_app_00000_svc_00000_80",
        "ingress_team_0000_app_00000_svc_00001_80"]
    assert shared["ingress_team_0000_app_00000_svc_00002_80"]["monitors"] == [
        {"use": "/tenant0/Shared/ingress_team_0000_app_00000_svc_00002_80_0_tcp"}]


def test_generated_repository_is_valid_against_the_official_as3_schema(tmp_path: Path, as3_schema_path: Path) -> None:
    generate(tmp_path / "repo", 50)
    result = render(tmp_path / "repo")
    assert validate_rendered(result, repo=tmp_path / "repo", as3_schema=str(as3_schema_path)) == []


def test_generator_writes_the_same_bytes_every_time(tmp_path: Path) -> None:
    generate(tmp_path / "a", 50)
    generate(tmp_path / "b", 50)
    first = _digest(tmp_path / "a")
    assert first == _digest(tmp_path / "b")
    assert sorted(first) == [
        "as3-gitops.yaml", "manifests/ingressclass.yaml", "manifests/ingresses/ingresses-0000.yaml",
        "manifests/services/services-0000.yaml", "snapshot/endpoints/endpoints-0000.yaml",
        "snapshot/endpointslices/endpointslices-0000.yaml", "snapshot/nodes/nodes-0000.yaml"]


def test_expected_counts_grow_linearly_with_size() -> None:
    assert expected(1000).as_dict() == {
        "ingresses": 1000, "services": 1000, "endpoint_slices": 100, "nodes": 100, "documents": 3202,
        "tenants": 10, "virtual_servers": 1000, "pools": 1200, "members": 12000, "monitors": 1200,
        "policies": 100, "fdb_records": 100, "arps": 10000}
    assert expected(10000).documents == 32002


def test_diff_of_the_benchmark_commits_shows_exactly_the_two_changes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    generate(repo, 50)
    base = commit_all(repo, "base")
    change = apply_change(repo, 50)
    head = commit_all(repo, "head")
    text = diff_cli(repo, base, head)
    assert DIFF_PLAN in text.splitlines()
    assert diff_problems(text, change) == []
    assert change.balance == ("least-connections-member", "least-sessions")
    assert change.pod == ("10.128.0.8", "10.128.0.250")


def test_one_endpoint_change_deploys_exactly_one_tenant(tmp_path: Path, as3_schema_path: Path) -> None:
    result = measure_deploy(tmp_path, as3_schema_path, size=20)
    assert result["report"]["outcome"] == "deployed"
    assert result["report"]["tenants_changed"] == ["tenant3"]
    assert result["as3_tenants_posted"] == ["tenant3"]
    assert result["bytes_posted"] == result["report"]["bytes_sent"]
    assert result["largest_as3_post_bytes"] <= 1.2 * result["tenant_json_bytes"]


def test_benchmark_command_writes_results_for_each_size(tmp_path: Path, as3_schema_path: Path) -> None:
    output = tmp_path / "results.json"
    env = {**os.environ, "AS3_SCHEMA": str(as3_schema_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--sizes", "30,50", "--repeat", "1", "--no-deploy",
         "--no-watch", "--output", str(output)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(output.read_text())
    assert sorted(data["sizes"]) == ["30", "50"]
    assert data["sizes"]["50"]["expected_counts"]["pools"] == 60
    assert data["command"] == f"python -m benchmarks --sizes 30,50 --repeat 1 --no-deploy --no-watch --output {output}"
    per_size = [
        "render({n}) / floor({n})", "render() library, no validation ({n}) / floor({n})", "diff({n}) / render({n})",
        "PR diff, warm parse cache ({n}) / cold render({n})", "PR diff, warm cache ({n}) / cold render({n})",
        "render after the PR change, warm cache ({n}) / cold render({n})",
        "PR diff, both sides rendered before ({n}) / cold render({n})",
        "render, warm parse cache ({n}) / cold render({n})", "peak RSS render({n}) / holding its documents"]
    assert [t["target"] for t in data["targets"]] == [
        *(name.format(n=30) for name in per_size), *(name.format(n=50) for name in per_size),
        "python jsonschema / our validate (50)", "python jsonschema / jsonschema-rs verdict (50)",
        "render(50) / render(30)", "output: json.dumps / orjson time (50)"]
    diagnostic = {t["target"] for t in data["targets"] if not t["goal"]}
    assert diagnostic == {name.format(n=n) for n in (30, 50) for name in (
        "PR diff, warm parse cache ({n}) / cold render({n})", "render, warm parse cache ({n}) / cold render({n})")}
    assert "  info   PR diff, warm parse cache (50) / cold render(50): " in proc.stdout
    assert "size 50: 163 documents in 6 files" in proc.stdout
    assert "targets (cpu-time ratios; wall-time ratio in brackets):" in proc.stdout


def test_benchmark_command_rejects_bad_sizes_with_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--sizes", "ten", "--output", str(tmp_path / "r.json")],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == "benchmark: error: --sizes 'ten': expected numbers separated by commas\n"
    assert not (tmp_path / "r.json").exists()


def test_crd_mix_renders_to_exactly_the_objects_it_encodes(tmp_path: Path) -> None:
    """--mix crd: 3 in 10 resources are VirtualServers, 1 in 10 TransportServers; same counts check."""
    exp = generate(tmp_path / "repo", 50, "crd")
    result = render(tmp_path / "repo")
    assert result.findings == []
    assert count_mismatches(exp, result.as3, result.net) == []
    kinds = [c for t in result.adc.values() if isinstance(t, dict) for a in t.values() if isinstance(a, dict)
             for c in (o.get("class") for o in a.values() if isinstance(o, dict))]
    assert (kinds.count("Service_HTTP"), kinds.count("Service_TCP"), kinds.count("Endpoint_Policy")) == (45, 5, 20)
    assert exp.policies == 20


def test_watch_lag_measurement_deploys_every_rollout_step(tmp_path: Path) -> None:
    from benchmarks.watch import measure_watch

    result = measure_watch(tmp_path, steps=3, debounce=0.1)
    assert result["deploys"] == result["commits"] == 3
    assert len(result["lags_s"]) == 3 and all(lag > 0 for lag in result["lags_s"])
    assert result["p95_s"] == max(result["lags_s"])


def _classes(adc: dict) -> list[str]:
    return [o.get("class") for t in adc.values() if isinstance(t, dict) for a in t.values() if isinstance(a, dict)
            for o in a.values() if isinstance(o, dict)]


def test_all_mix_adds_as3_configmaps_and_routes_and_renders_what_it_encodes(tmp_path: Path, as3_schema_path: Path) -> None:
    """--mix all: crd's kinds, plus 1 in 10 Routes and 1 in 10 Applications of per-namespace AS3 ConfigMaps."""
    exp = generate(tmp_path / "repo", 150, "all")
    result = render(tmp_path / "repo")
    assert result.findings == []
    assert count_mismatches(exp, result.as3, result.net) == []
    assert rendered_counts(result.as3, result.net) == {
        "tenants": 10, "virtual_servers": 136, "pools": 180, "members": 1800, "monitors": 180, "policies": 61,
        "fdb_records": 15, "arps": 1500}
    assert (exp.documents, exp.tenants) == (470, 10)
    files = manifest_files(tmp_path / "repo")
    assert sum(f.read_text().count("\n---\n") + 1 for f in files) == exp.documents
    # Ingress partitions 4 and 9 are taken by Routes (default partition) and AS3 Applications (own tenants)
    assert sorted(t for t in result.adc if t.startswith(("tenant", "as3_"))) == [
        "as3_team_0000", "as3_team_0001", "tenant0", "tenant1", "tenant2", "tenant3", "tenant5", "tenant6", "tenant7",
        "tenant8"]
    team = result.adc["as3_team_0001"]
    assert sorted(a for a in team if a.startswith("app_")) == ["app_00109", "app_00119", "app_00129", "app_00139",
                                                                 "app_00149"]
    pool = team["app_00109"]["pool"]  # filled by service discovery from the labelled Service's endpoints
    assert len(pool["members"]) == 10 and {m["servicePort"] for m in pool["members"]} == {8080}
    shared = result.adc["tenant0"]["Shared"]
    assert shared["ose_vserver"]["virtualAddresses"] == ["172.31.255.254"]
    assert len(shared["openshift_insecure_routes"]["rules"]) == 15
    assert shared["openshift_team_0001_svc_00104"]["monitors"] == [
        {"use": "/tenant0/Shared/openshift_team_0001_svc_00104_0_http"}]
    classes = _classes(result.adc)
    assert (classes.count("Service_HTTP"), classes.count("Service_TCP")) == (121, 15)
    assert validate_rendered(result, repo=tmp_path / "repo", as3_schema=str(as3_schema_path)) == []


def test_all_mix_writes_the_same_bytes_every_time_and_leaves_the_other_mixes_alone(tmp_path: Path) -> None:
    generate(tmp_path / "a", 150, "all")
    generate(tmp_path / "b", 150, "all")
    generate(tmp_path / "crd", 150, "crd")
    first = _digest(tmp_path / "a")
    assert first == _digest(tmp_path / "b")
    assert [f for f in first if f.startswith("manifests/as3/")] == [
        "manifests/as3/as3-0000.yaml", "manifests/as3/as3-0001.yaml"]
    crd = _digest(tmp_path / "crd")
    # only the config (routeVirtualAddress), the resource files, the services (discovery labels) and the
    # AS3 ConfigMaps differ from the crd mix; the snapshot is the same
    assert sorted(f for f in first if first[f] != crd.get(f)) == [
        "as3-gitops.yaml", "manifests/as3/as3-0000.yaml", "manifests/as3/as3-0001.yaml",
        "manifests/ingresses/ingresses-0000.yaml", "manifests/ingresses/ingresses-0001.yaml",
        "manifests/services/services-0000.yaml", "manifests/services/services-0001.yaml"]


def test_all_mix_counts_at_1000_and_10000() -> None:
    assert expected(1000, "all").as_dict() == {
        "ingresses": 1000, "services": 1000, "endpoint_slices": 100, "nodes": 100, "documents": 3112,
        "tenants": 18, "virtual_servers": 901, "pools": 1200, "members": 12000, "monitors": 1200,
        "policies": 401, "fdb_records": 100, "arps": 10000}
    assert expected(10000, "all").tenants == 108
    assert expected(1000, "crd").as_dict() == {**expected(1000).as_dict(), "policies": 400}
