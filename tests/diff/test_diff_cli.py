"""`as3-gitops diff` end to end: real git repositories (a copy of examples/hello-world), commits made here."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import trustme

from renderer.diff_values import fingerprint
from renderer.render import render

from .conftest import FIXTURES

ENDPOINTS = "snapshot/endpoints.yaml"
NEW_ENDPOINT = """      - ip: 10.10.2.8
        nodeName: worker-2
        targetRef: {kind: Pod, name: hello-world-7d9c5b-pqrst, namespace: default}
"""
VS01_POOL = "ingress_default_vs_01_hello_world_svc_80"
VS02_POOL = "cfgmap_default_vs_02_hello_world_svc"


def edit(repo: Any, rel: str, old: str, new: str) -> str:
    text = (repo.path / rel).read_text()
    assert old in text, f"{old!r} not in {rel}"
    return text.replace(old, new, 1)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def changes_of(out: str) -> list[tuple[str, str, str]]:
    return [(c["kind"], c["class"], c["name"]) for c in json.loads(out)["changes"]]


def scale_up(repo: Any) -> dict[str, str]:
    """The Deployment gets a 4th replica and the snapshot its endpoint on worker-2."""
    return {
        "manifests/deployment.yaml": edit(repo, "manifests/deployment.yaml", "replicas: 3", "replicas: 4"),
        ENDPOINTS: edit(repo, ENDPOINTS, "    ports:\n", NEW_ENDPOINT + "    ports:\n"),
    }


def test_scaled_deployment_adds_one_member_per_pool_and_one_arp(hello_repo, diff_cli) -> None:
    base = hello_repo.commit(message="initial")
    head = hello_repo.commit(scale_up(hello_repo), message="scale hello-world to 4")
    result = diff_cli(str(hello_repo.path), "--base", base, "--head", head, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["summary"] == {"add": 1, "change": 2, "destroy": 0}
    assert report["snapshot_only"] is True
    assert report["network"]["parts"] == {"ARPs": {"add": 1, "change": 0, "destroy": 0}}
    pools = [c for c in report["changes"] if c["class"] == "Pool"]
    assert [p["name"] for p in pools] == [VS02_POOL, VS01_POOL]
    for p in pools:
        assert p["properties"] == [{"path": "members[10.10.2.8:9000]", "kind": "added", "old": None,
                                    "new": {"addressDiscovery": "static", "servicePort": 9000}}]
        assert p["snapshot_only"] is True
    (arp,) = [c for c in report["changes"] if c["class"] == "ARP"]
    assert (arp["kind"], arp["name"], arp["pointer"]) == ("added", "10.10.2.8", "/net/arps/10.10.2.8")
    assert {p["path"]: p["new"] for p in arp["properties"]} == {
        "ipAddress": "10.10.2.8", "macAddress": "6e:2b:17:0a:9c:d3", "name": "k8s-10.10.2.8"}
    assert "snapshot/nodes.yaml: Node worker-2" in [s["text"] for s in arp["sources"]]
    assert arp["snapshot_only"] is True


def test_changed_balance_is_one_changed_property(hello_repo, diff_cli) -> None:
    base = hello_repo.commit(message="initial")
    hello_repo.write({"manifests/vs-01.yaml": edit(hello_repo, "manifests/vs-01.yaml", "balance: round-robin",
                                                   "balance: least-connections-member")})
    result = diff_cli(str(hello_repo.path), "--base", base, "--exit-code")
    assert result.code == 1, result.err
    assert result.out == (
        f"as3-gitops diff (default): {base[:12]} -> working tree\n"
        "\n"
        "Plan: 0 to add, 1 to change, 0 to destroy.\n"
        "  tenant kubernetes: 0 to add, 1 to change, 0 to destroy\n"
        "\n"
        "Tenant kubernetes: 0 to add, 1 to change, 0 to destroy\n"
        f"  ~ Pool /kubernetes/Shared/{VS01_POOL}\n"
        "        from manifests/service.yaml: Service default/hello-world-svc\n"
        "        from manifests/vs-01.yaml: Ingress default/vs-01\n"
        "        from snapshot/endpoints.yaml: Endpoints default/hello-world-svc\n"
        '      ~ loadBalancingMode: "round-robin" -> "least-connections-member"\n'
    )
    assert result.err == ""


def test_added_ingress_adds_a_pool_and_a_rule_on_the_shared_vip(hello_repo, diff_cli) -> None:
    base = hello_repo.commit({"manifests/shop.yaml": fixture("shop.yaml")}, message="shop")
    head = hello_repo.commit({"manifests/blog.yaml": fixture("blog.yaml")}, message="blog")
    result = diff_cli(str(hello_repo.path), "--base", base, "--head", head, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert changes_of(result.out) == [("changed", "Endpoint_Policy", "Ingress_192_168_1_252_80"),
                                      ("added", "Pool", "ingress_default_blog_hello_world_svc_80")]
    policy = report["changes"][0]
    rule = "ingress_blog_example_com_posts_ingress_default_blog_hello_world_svc_80"
    assert [(p["path"], p["kind"]) for p in policy["properties"]] == [(f"rules[{rule}]", "added")]
    assert [s["text"] for s in policy["sources"]] == ["manifests/blog.yaml: Ingress default/blog",
                                                      "manifests/shop.yaml: Ingress default/shop"]
    assert report["tenants"] == {"kubernetes": {"add": 1, "change": 1, "destroy": 0, "deleted": False,
                                                "new": False}}
    assert report["snapshot_only"] is False


def test_deleting_the_last_ingress_of_a_partition_empties_the_tenant(hello_repo, diff_cli) -> None:
    base = hello_repo.commit({"manifests/team-b.yaml": fixture("team-b.yaml")}, message="team b")
    head = hello_repo.commit({"manifests/team-b.yaml": None}, message="drop team b")
    result = diff_cli(str(hello_repo.path), "--base", base, "--head", head)
    assert result.code == 0, result.err
    assert ("  tenant team_b: 0 to add, 0 to change, 2 to destroy\n" in result.out)
    assert ("Tenant team_b: 0 to add, 0 to change, 2 to destroy\n  note: tenant team_b is emptied: deploy "
            "deletes tenant (partition) team_b and everything in it from the BIG-IP\n") in result.out
    assert "note: traffic to the old VIP 192.168.1.253:80 stops\n" in result.out
    report = json.loads(diff_cli(str(hello_repo.path), "--base", base, "--head", head, "--format", "json").out)
    assert report["tenants"]["team_b"]["deleted"] is True
    assert changes_of(json.dumps(report)) == [("removed", "Service_HTTP", "ingress_192_168_1_253_80"),
                                              ("removed", "Pool", "ingress_default_team_b_web_hello_world_svc_80")]


def test_reordered_endpoints_are_no_change(hello_repo, diff_cli) -> None:
    base = hello_repo.commit(message="initial")
    text = (hello_repo.path / ENDPOINTS).read_text()
    first = "      - ip: 10.10.1.5\n        nodeName: worker-1\n"
    first += "        targetRef: {kind: Pod, name: hello-world-7d9c5b-abcde, namespace: default}\n"
    assert first in text
    reordered = text.replace(first, "").replace("    ports:\n", first + "    ports:\n")
    head = hello_repo.commit({ENDPOINTS: reordered}, message="endpoints reordered")
    result = diff_cli(str(hello_repo.path), "--base", base, "--head", head, "--exit-code")
    assert (result.code, result.err) == (0, "")
    assert result.out == (f"as3-gitops diff (default): {base[:12]} -> {head[:12]}\n\n"
                          "No changes. The BIG-IP declarations of both sides are the same.\n")
    markdown = diff_cli(str(hello_repo.path), "--base", base, "--head", head, "--format", "markdown",
                        "--environment", "prod")
    assert markdown.out == (
        "<!-- as3-gitops:diff:prod -->\n"
        "### as3-gitops diff `prod`: no changes\n\n"
        f"Base <code>{base[:12]}</code> and head <code>{head[:12]}</code> render to the same BIG-IP "
        "declarations.\n")


def _tls_files(key_pem: str, cert_pem: str) -> dict[str, str]:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    secret = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: shop-tls\n  namespace: default\n"
              f"type: kubernetes.io/tls\ndata:\n  tls.crt: {b64(cert_pem)}\n  tls.key: {b64(key_pem)}\n")
    ingress = fixture("shop.yaml").replace("spec:\n", "spec:\n  tls:\n    - hosts: [shop.example.com]\n"
                                                      "      secretName: shop-tls\n", 1)
    return {"manifests/shop-tls-secret.yaml": secret, "manifests/shop.yaml": ingress}


def test_rotated_tls_secret_is_a_changed_certificate_with_redacted_key(hello_repo, diff_cli) -> None:
    ca = trustme.CA()
    old, new = ca.issue_cert("shop.example.com"), ca.issue_cert("shop.example.com")
    old_key, new_key = old.private_key_pem.bytes().decode(), new.private_key_pem.bytes().decode()
    base = hello_repo.commit(_tls_files(old_key, old.cert_chain_pems[0].bytes().decode()), message="tls")
    head = hello_repo.commit(_tls_files(new_key, new.cert_chain_pems[0].bytes().decode()), message="rotate")
    rendered = {}
    for ref in (base, head):
        shared = render(hello_repo.path, ref).as3["declaration"]["kubernetes"]["Shared"]
        rendered[ref] = next(v for v in shared.values() if isinstance(v, dict) and v.get("class") == "Certificate")
    outputs = {fmt: diff_cli(str(hello_repo.path), "--base", base, "--head", head, "--format", fmt)
               for fmt in ("text", "markdown", "json")}
    secret_lines = [line for key in (old_key, new_key) for line in key.splitlines() if "-----" not in line]
    for fmt, result in outputs.items():
        assert result.code == 0, result.err
        for line in secret_lines:
            assert line not in result.out, f"key material in the {fmt} diff"
        assert "PRIVATE KEY" not in result.out
    (cert,) = [c for c in json.loads(outputs["json"].out)["changes"] if c["class"] == "Certificate"]
    assert cert["kind"] == "changed"
    props = {p["path"]: p for p in cert["properties"]}
    assert props["privateKey"]["old"] == f"<redacted, sha256:{fingerprint(rendered[base]['privateKey'])}>"
    assert props["privateKey"]["new"] == f"<redacted, sha256:{fingerprint(rendered[head]['privateKey'])}>"
    assert "certificate" in props
    assert [s["text"] for s in cert["sources"]][-1] == "manifests/shop-tls-secret.yaml: Secret default/shop-tls"
    text = outputs["text"].out
    assert (f"      ~ privateKey: <redacted, sha256:{fingerprint(rendered[base]['privateKey'])}> -> "
            f"<redacted, sha256:{fingerprint(rendered[head]['privateKey'])}>\n") in text


def test_broken_manifest_on_head_exits_2_naming_side_and_file(hello_repo, diff_cli, tmp_path) -> None:
    base = hello_repo.commit(message="initial")
    hello_repo.write({"manifests/vs-01.yaml": edit(hello_repo, "manifests/vs-01.yaml", "  name: vs-01\n",
                                                   "  name = vs-01\n")})
    out_file = tmp_path / "diff.md"
    result = diff_cli(str(hello_repo.path), "--base", base, "--format", "markdown", "--output", str(out_file))
    assert result.code == 2
    assert result.out == ""
    first, second = result.err.splitlines()[:2]
    assert first == "head (working tree): invalid input, 1 error(s), 0 warning(s); no diff"
    assert second.startswith("manifests/vs-01.yaml:5:") and ": error: invalid YAML" in second
    assert "Traceback" not in result.err
    assert not out_file.exists()


def test_broken_base_and_unknown_ref_are_reported_as_base(hello_repo, diff_cli) -> None:
    broken = hello_repo.commit({"as3-gitops.yaml": "bigip: [unclosed\n"}, message="broken config")
    fixed = hello_repo.commit({"as3-gitops.yaml": (Path(__file__).parents[2] / "examples" / "hello-world"
                                                   / "as3-gitops.yaml").read_text()}, message="fixed")
    result = diff_cli(str(hello_repo.path), "--base", broken, "--head", fixed)
    assert result.code == 2
    assert result.err.startswith(f"base ({broken[:12]}): invalid input, 1 error(s)")
    assert "\nas3-gitops.yaml:" in result.err
    unknown = diff_cli(str(hello_repo.path), "--base", "no-such-branch")
    assert unknown.code == 2
    assert unknown.err.startswith("base (no-such-branch): invalid input")
    assert "unknown git ref 'no-such-branch'" in unknown.err


def test_output_file_is_written_and_exit_code_reports_changes(hello_repo, diff_cli, tmp_path) -> None:
    base = hello_repo.commit(message="initial")
    head = hello_repo.commit(scale_up(hello_repo), message="scale")
    out_file = tmp_path / "out" / "diff.md"
    args = (str(hello_repo.path), "--base", base, "--head", head, "--format", "markdown")
    written = diff_cli(*args, "--output", str(out_file), "--exit-code")
    assert (written.code, written.out, written.err) == (1, "", "")
    printed = diff_cli(*args)
    assert printed.code == 0
    assert out_file.read_text() == printed.out
    assert sorted(p.name for p in out_file.parent.iterdir()) == ["diff.md"]
    assert printed.out.startswith("<!-- as3-gitops:diff:default -->\n")
    assert "> [!NOTE]\n> Only the endpoint snapshot changed" in printed.out


def test_bad_options_exit_2(hello_repo, diff_cli) -> None:
    assert diff_cli(str(hello_repo.path), "--base", "HEAD", "--format", "yaml").code == 2
    assert diff_cli(str(hello_repo.path), "--base", "HEAD", "--max-chars", "10").code == 2
    bad_env = diff_cli(str(hello_repo.path), "--base", "HEAD", "--environment", "a -->b")
    assert bad_env.code == 2
    assert "--environment 'a -->b' must match" in bad_env.err


def test_entry_point_runs_in_a_subprocess(hello_repo) -> None:
    proc = subprocess.run([sys.executable, "-m", "renderer", "diff", str(hello_repo.path), "--base", "HEAD",
                           "--exit-code"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("No changes. The BIG-IP declarations of both sides are the same.\n")
