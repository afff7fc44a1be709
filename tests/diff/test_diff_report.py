"""The writers: golden files from a real two-commit repository, the markdown size budget, escaping."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from renderer.diff import Side, diff_declarations
from renderer.diff_report import write_diff

from .conftest import FIXTURES
from .test_diff_cli import edit, scale_up


@pytest.fixture
def mixed_refs(hello_repo) -> tuple[Any, str, str]:
    """Base: the example + a host/path Ingress + partition team_b. Head: five kinds of change at once."""
    base = hello_repo.commit({"manifests/shop.yaml": (FIXTURES / "shop.yaml").read_text(),
                              "manifests/team-b.yaml": (FIXTURES / "team-b.yaml").read_text()}, message="base")
    vs01 = edit(hello_repo, "manifests/vs-01.yaml", "balance: round-robin", "balance: least-connections-member")
    vs01 = vs01.replace('ip: "192.168.1.250"', 'ip: "192.168.1.249"')
    head = hello_repo.commit({**scale_up(hello_repo), "manifests/vs-01.yaml": vs01,
                              "manifests/blog.yaml": (FIXTURES / "blog.yaml").read_text(),
                              "manifests/team-b.yaml": None}, message="head")
    return hello_repo, base, head


def _stable(text: str, base: str, head: str) -> str:
    """Commit shas depend on the example's bytes; the golden files keep a placeholder instead."""
    return text.replace(base[:12], "<base-sha>").replace(head[:12], "<head-sha>")


@pytest.mark.parametrize(("fmt", "extra", "name"), [
    ("text", (), "mixed.txt"),
    ("markdown", ("--environment", "production"), "mixed.md"),
    ("json", (), "mixed.json"),
    ("markdown", ("--max-chars", "2500"), "mixed-over-budget.md"),
])
def test_golden_outputs_of_a_mixed_change(mixed_refs, diff_cli, golden, fmt, extra, name) -> None:
    repo, base, head = mixed_refs
    result = diff_cli(str(repo.path), "--base", "main~1", "--head", "main", "--format", fmt, *extra)
    assert result.code == 0, result.err
    golden(name, _stable(result.out, base, head))
    if name == "mixed-over-budget.md":
        assert len(result.out) <= 2500
        assert result.out.startswith("<!-- as3-gitops:diff:default -->\n")
        assert "| tenant <code>team_b</code> | 0 | 0 | 2 |" in result.out
        assert "The complete diff is in the job summary and the workflow artifact." in result.out


def test_mixed_change_says_what_a_reviewer_must_see(mixed_refs, diff_cli) -> None:
    repo, base, head = mixed_refs
    text = diff_cli(str(repo.path), "--base", base, "--head", head).out
    assert "  - Service_HTTP /kubernetes/Shared/ingress_192_168_1_250_80\n" in text
    assert ("note: traffic to the old VIP 192.168.1.250:80 stops; new VIP in this tenant: 192.168.1.249:80"
            in text)
    assert "  + Service_HTTP /kubernetes/Shared/ingress_192_168_1_249_80\n" in text
    assert "note: tenant team_b is emptied: deploy deletes tenant (partition) team_b" in text
    report = json.loads(diff_cli(str(repo.path), "--base", base, "--head", head, "--format", "json").out)
    assert report["snapshot_only"] is False
    assert report["tenants"]["team_b"]["deleted"] is True


# --- the markdown budget on hand-made declarations --------------------------------------------


def _big_result(tenants: int, pools: int) -> Any:
    def decl(balance: str) -> dict[str, Any]:
        out: dict[str, Any] = {"class": "ADC", "schemaVersion": "3.56.0"}
        for t in range(tenants):
            objects = {f"pool_{p:03d}": {"class": "Pool", "loadBalancingMode": balance,
                                         "members": [{"servicePort": 80, "serverAddresses": [f"10.0.{t}.{p}"]}]}
                       for p in range(pools)}
            out[f"tenant_{t:02d}"] = {"class": "Tenant", "Shared": {"class": "Application", **objects}}
        return out

    return diff_declarations(Side(decl("round-robin"), None, label="a"),
                             Side(decl("ratio-member"), None, label="b"))


@pytest.mark.parametrize("max_chars", [1000, 4000, 20000, 60000])
def test_markdown_stays_under_the_budget_and_keeps_every_tenant_count(max_chars) -> None:
    result = _big_result(tenants=12, pools=60)
    stream = io.StringIO()
    write_diff(result, stream, "markdown", max_chars=max_chars, environment="staging")
    body = stream.getvalue()
    assert len(body) <= max_chars
    assert body.startswith("<!-- as3-gitops:diff:staging -->\n### as3-gitops diff `staging`: 0 to add, 720 to "
                           "change, 0 to destroy\n")
    if max_chars >= 4000:  # the summary table fits: every tenant keeps its counts
        for t in range(12):
            assert f"| tenant <code>tenant_{t:02d}</code> | 0 | 60 | 0 |" in body
    assert "The complete diff is in the job summary and the workflow artifact." in body
    full = io.StringIO()
    write_diff(result, full, "markdown", max_chars=10**7, environment="staging")
    assert len(full.getvalue()) > 60000
    assert "job summary" not in full.getvalue()


def test_markdown_details_are_dropped_whole_tenant_by_tenant() -> None:
    stream = io.StringIO()
    write_diff(_big_result(tenants=3, pools=30), stream, "markdown", max_chars=6000)  # full: ~8,900
    body = stream.getvalue()
    assert body.count("<details>") == 3
    assert body.count("```diff") + body.count("(details left out)") == 3
    assert body.count("(details left out)") >= 1
    assert body.count("```diff") >= 1


def test_markdown_fence_outgrows_backticks_in_values_and_labels_are_escaped() -> None:
    def decl(text: str) -> dict[str, Any]:
        return {"class": "ADC", "t": {"class": "Tenant", "Shared": {"class": "Application",
                                                                    "r": {"class": "iRule", "iRule": text}}}}

    result = diff_declarations(Side(decl("when HTTP_REQUEST {}"), None, label="<b>base</b>"),
                               Side(decl("# ```` fenced ````"), None, label="head"))
    stream = io.StringIO()
    write_diff(result, stream, "markdown")
    body = stream.getvalue()
    assert "`````diff\n" in body and "\n`````\n" in body
    assert "Base <code>&lt;b&gt;base&lt;/b&gt;</code>" in body


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown diff format 'yaml'"):
        write_diff(_big_result(1, 1), io.StringIO(), "yaml")
