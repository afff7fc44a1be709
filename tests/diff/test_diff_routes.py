"""`diff` on OpenShift Routes: changes are matched by name and name the Route they come from."""

from __future__ import annotations

import json
from pathlib import Path

ROUTES_CASE = Path(__file__).resolve().parents[1] / "render" / "cases" / "routes-tls"


def test_a_changed_route_is_a_changed_rule_and_data_group_from_that_route(make_repo, diff_cli) -> None:
    repo = make_repo(ROUTES_CASE)
    base = repo.commit(message="base")
    routes = (repo.path / "manifests" / "routes.yaml").read_text()
    head = repo.commit({"manifests/routes.yaml": routes.replace("host: vault.example.com", "host: vault2.example.com")
                        .replace("weight: 20", "weight: 50")}, message="move vault, more canary")
    result = diff_cli(str(repo.path), "--base", base, "--head", head, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    changed = {(c["kind"], c["class"], c["name"]): c for c in report["changes"]}
    assert set(changed) == {("changed", "Data_Group", "ab_deployment_dg"),
                            ("changed", "Data_Group", "ssl_passthrough_servername_dg")}
    sources = [s["text"] for s in changed[("changed", "Data_Group", "ssl_passthrough_servername_dg")]["sources"]]
    assert "manifests/routes.yaml: Route shop/vault" in sources


def test_removing_every_route_destroys_the_route_virtuals(make_repo, diff_cli) -> None:
    repo = make_repo(ROUTES_CASE)
    base = repo.commit(message="base")
    head = repo.commit({"manifests/routes.yaml": None}, message="no routes")
    result = diff_cli(str(repo.path), "--base", base, "--head", head, "--format", "text")
    assert result.code == 0, result.err
    assert "- Service_HTTPS /openshift/Shared/https_ose_vserver" in result.out
    assert "traffic to the old VIP 10.1.10.50:443 stops" in result.out
