"""Issue 15, defects 4 (hints), 5 (confinement), 7 (limits), 8 (exit 5 -> findings), 9 (both files or
neither), 10 (duplicate keys, odd annotation values), 11 (`-o -` writes nothing else): each scenario,
through the real CLI (in-process) or render(), with the finding that must come out."""

from __future__ import annotations

import contextlib
import io
import os
import time
from pathlib import Path

import pytest

from renderer.cli import main

from .helpers import CONFIG, build, codes, errors, ingress, service, write_repo

SECRET_LINE = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  passphrase=hunter2-SECRET\n  a: b\n"


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def repo_with(tmp_path: Path, files: dict[str, str], config: str = CONFIG) -> Path:
    return write_repo(tmp_path / "repo", {"manifests/svc.yaml": service("web"), **files}, config)


# --- defect 4: no secret in hints -------------------------------------------------------------

@pytest.mark.parametrize("text", [
    SECRET_LINE,
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  api_token=hunter2-SECRET\n  a: b\n",
])
def test_yaml_hints_never_quote_a_secret_value(tmp_path, text):
    repo = repo_with(tmp_path, {"manifests/bad.yaml": text})
    for args in (["render", str(repo), "-o", str(tmp_path / "out"), "--no-validate"],
                 ["validate", str(repo), "--format", "github"], ["validate", str(repo), "--format", "json"]):
        code, out, err = cli(*args)
        assert code == 2
        assert "hunter2" not in out + err
        assert "<value>" in out + err and "(YAML mappings use" in out + err


def test_yaml_hints_still_quote_ordinary_values(tmp_path):
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name=\"web\"\n  namespace: default\n"
    code, _out, err = cli("render", str(repo_with(tmp_path, {"manifests/bad.yaml": text})), "--no-validate")
    assert code == 2 and 'hint: write "name: "web""' in err


# --- defect 5: confinement --------------------------------------------------------------------

@pytest.mark.parametrize("config, where", [
    ("paths:\n  manifests: [../outside]\n", "as3-gitops.yaml:5:15"),
    ("paths:\n  manifests: [manifests, /etc]\n", "as3-gitops.yaml:5:26"),
    ("paths:\n  snapshot: [snapshot/../../x]\n", "as3-gitops.yaml:5:14"),
    ("templates: ../..\n", "as3-gitops.yaml:4:12"),
])
def test_configured_paths_that_leave_the_repository_are_refused(tmp_path, config, where):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.yaml").write_text(service("leak"))
    result = build(tmp_path, {"manifests/svc.yaml": service("web")}, CONFIG + config)
    assert codes(result) == ["CFG004"]
    assert errors(result, "CFG004")[0].startswith(where + ": ")


def test_symlinks_that_leave_the_repository_are_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.yaml").write_text(service("leak"))
    repo = repo_with(tmp_path, {"manifests/ing.yaml": ingress("web")})
    (repo / "manifests" / "leak.yaml").symlink_to(outside / "leak.yaml")
    (repo / "manifests" / "dir").symlink_to(outside)
    (repo / "shared").mkdir()
    (repo / "shared" / "svc2.yaml").write_text(service("web2"))
    (repo / "manifests" / "inside.yaml").symlink_to(repo / "shared" / "svc2.yaml")
    (repo / "snapshot").symlink_to(outside)
    code, _out, err = cli("render", str(repo), "-o", str(tmp_path / "out"), "--no-validate")
    assert code == 2
    assert "manifests/leak.yaml: error: manifests/leak.yaml: is a symlink that points outside the repository" in err
    assert "snapshot: error: snapshot: is a symlink that points outside the repository" in err
    assert "leak" not in err.replace("leak.yaml", "")  # nothing of the file's content
    assert "inside.yaml" not in err  # a link inside the repository is read like a file
    assert not (tmp_path / "out").exists()


def test_config_file_symlinked_out_of_the_repository_is_refused(tmp_path):
    (tmp_path / "elsewhere.yaml").write_text(CONFIG)
    repo = repo_with(tmp_path, {"manifests/ing.yaml": ingress("web")})
    (repo / "as3-gitops.yaml").unlink()
    (repo / "as3-gitops.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    code, _out, err = cli("render", str(repo), "--no-validate", "-o", str(tmp_path / "out"))
    assert code == 2 and "[SRC005]" in err and "as3-gitops.yaml: is a symlink" in err


def test_template_include_cannot_climb_out_of_the_templates_folder(tmp_path):
    (tmp_path / "secret.txt").write_text("TOP-SECRET")
    config = CONFIG + "templates: tpl\n"
    repo = repo_with(tmp_path, {"manifests/ing.yaml": ingress("web"),
                                "tpl/declaration.json.j2": '{% include "../../secret.txt" %}'}, config)
    code, _out, err = cli("render", str(repo), "--no-validate", "-o", str(tmp_path / "out"))
    assert code == 2 and "template name '../../secret.txt' leaves the templates folder" in err
    assert "TOP-SECRET" not in err


# --- defect 7: limits ------------------------------------------------------------------------

BOMB = ("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n")


def test_alias_bomb_in_the_config_is_a_finding_fast(tmp_path):
    started = time.monotonic()
    result = build(tmp_path, {"manifests/svc.yaml": service("web")}, CONFIG + BOMB)
    assert time.monotonic() - started < 5
    assert codes(result) == ["LIM004"]
    assert errors(result, "LIM004")[0].startswith("as3-gitops.yaml:")


def test_alias_bomb_in_a_manifest_is_a_finding(tmp_path):
    result = build(tmp_path, {"manifests/svc.yaml": service("web"), "manifests/bomb.yaml": BOMB})
    assert codes(result) == ["LIM004"]


def test_alias_count_limit_is_configurable(tmp_path):
    text = "a: &a x\n" + "".join(f"k{i}: *a\n" for i in range(20))
    assert codes(build(tmp_path, {"manifests/m.yaml": text}, CONFIG + "limits: {maxAliases: 10}\n")) == ["LIM003"]
    assert "LIM003" not in codes(build(tmp_path, {"manifests/m.yaml": text}))


def test_file_and_total_size_limits(tmp_path):
    big = service("web") + "# " + "x" * (1024 * 1024 + 10) + "\n"
    result = build(tmp_path, {"manifests/svc.yaml": big}, CONFIG + "limits: {maxFileMiB: 1}\n")
    assert codes(result) == ["LIM001"]
    files = {f"manifests/f{i}.yaml": "# " + "x" * 400_000 + "\n" for i in range(4)}
    result = build(tmp_path, {"manifests/svc.yaml": service("web"), **files}, CONFIG + "limits: {maxTotalMiB: 1}\n")
    assert "LIM002" in codes(result)


@pytest.mark.parametrize("template, code", [
    ("{{ 'x' * 10**10 }}", "LIM006"),
    ("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
     "LIM007"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "LIM005"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "LIM008"),
    ("{% for i in range(100001) %}{% endfor %}", "LIM008"),
])
def test_user_templates_run_under_a_budget(tmp_path, template, code):
    # The endless loop waits out templateSeconds, so it gets the smallest; the others must hit their own
    # limit first, with time to spare on a busy machine (at 2 s the memory case could run out of time)
    seconds = 1 if code == "LIM005" else 20
    config = CONFIG + f"templates: tpl\nlimits: {{templateSeconds: {seconds}, templateMemoryMiB: 256, templateOutputMiB: 64}}\n"
    repo = repo_with(tmp_path, {"manifests/ing.yaml": ingress("web"), "tpl/declaration.json.j2": template}, config)
    started = time.monotonic()
    rc, _out, err = cli("render", str(repo), "--no-validate", "-o", str(tmp_path / "out"))
    assert time.monotonic() - started < 30
    assert rc == 2 and f"[{code}]" in err, err
    assert not (tmp_path / "out").exists()


def test_user_template_that_is_not_an_object_is_an_error(tmp_path):
    repo = repo_with(tmp_path, {"manifests/ing.yaml": ingress("web"), "tpl/declaration.json.j2": "[1, 2]"},
                     CONFIG + "templates: tpl\n")
    rc, _out, err = cli("render", str(repo), "--no-validate", "-o", str(tmp_path / "out"))
    assert rc == 2 and "templates must produce a JSON object" in err


# --- defect 8: inputs that ended in exit 5 ---------------------------------------------------

@pytest.mark.parametrize("extra, code", [
    ('    virtual-server.f5.com/http-port: "²"\n', "ANN002"),
    ('    virtual-server.f5.com/http-port: "' + "9" * 5000 + '"\n', "ANN002"),
    ('    virtual-server.f5.com/https-port: "' + str(2**64) + '"\n', "ANN002"),
    ("    virtual-server.f5.com/whitelist-source-range: 10.0.0.0/" + "9" * 5000 + "\n", "ANN002"),
])
def test_huge_or_odd_numbers_in_annotations_are_findings(tmp_path, extra, code):
    rc, _out, err = cli("render", str(repo_with(tmp_path, {"manifests/i.yaml": ingress("web", extra=extra)})),
                        "--no-validate", "-o", str(tmp_path / "out"))
    assert rc == 2 and f"[{code}]" in err and "manifests/i.yaml:" in err
    assert max(len(line) for line in err.splitlines()) < 400, "a 5,000-digit value is not echoed in full"


def test_huge_cidr_in_the_ip_annotation_is_a_finding(tmp_path):
    files = {"manifests/i.yaml": ingress("web", ip="10.1.1.1/" + "9" * 5000)}
    rc, _out, err = cli("render", str(repo_with(tmp_path, files)), "--no-validate")
    assert rc == 2 and "virtual-server.f5.com/ip: '10.1.1.1/999" in err and "[ANN002]" in err


def test_huge_snapshot_max_age_is_a_config_error(tmp_path):
    result = build(tmp_path, {"manifests/svc.yaml": service("web")},
                   CONFIG + 'snapshot:\n  maxAge: "' + "9" * 5000 + 'h"\n')
    assert codes(result) == ["CFG003"]


def test_validate_declaration_with_a_huge_integer(tmp_path, as3_schema_path, monkeypatch):
    monkeypatch.setenv("AS3_SCHEMA", str(as3_schema_path))
    path = tmp_path / "as3.json"
    path.write_text('{"class": "AS3", "declaration": {"class": "ADC", "schemaVersion": "3.56.0", "x": '
                    + "9" * 5000 + "}}")
    rc, out, err = cli("validate", "--declaration", str(path))
    assert rc == 2 and "as3.json:1:" in out + err


# --- defect 9: both files or neither ---------------------------------------------------------

def test_net_json_in_the_way_leaves_as3_json_alone(tmp_path):
    repo = repo_with(tmp_path, {"manifests/ing.yaml": ingress("web")})
    out = tmp_path / "out"
    (out / "net.json").mkdir(parents=True)
    (out / "as3.json").write_text("OLD")
    rc, _o, err = cli("render", str(repo), "--no-validate", "-o", str(out))
    assert rc == 2 and "cannot write" in err and "nothing was written" in err
    assert (out / "as3.json").read_text() == "OLD"
    assert sorted(p.name for p in out.iterdir()) == ["as3.json", "net.json"]


def test_a_failed_second_replace_puts_the_first_file_back(tmp_path, monkeypatch):
    from renderer import fileio

    target = tmp_path / "out"
    target.mkdir()
    (target / "a.json").write_text("OLD-A")
    (target / "b.json").write_text("OLD-B")
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if str(dst).endswith("b.json") and len(calls) == 2:
            raise PermissionError(13, "denied", str(dst))
        return real(src, dst)

    monkeypatch.setattr(fileio.os, "replace", flaky)
    with pytest.raises(PermissionError):
        fileio.write_all_atomic({target / "a.json": "NEW-A", target / "b.json": "NEW-B"})
    assert (target / "a.json").read_text() == "OLD-A" and (target / "b.json").read_text() == "OLD-B"
    assert sorted(p.name for p in target.iterdir()) == ["a.json", "b.json"], "no temp or backup file left"


# --- defect 10: duplicate keys and odd annotation values --------------------------------------

def test_duplicate_keys_in_yaml_name_both_lines(tmp_path):
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  type: NodePort\n" \
           "  type: ClusterIP\n"
    result = build(tmp_path, {"manifests/svc.yaml": text})
    assert errors(result, "SRC006") == [
        "manifests/svc.yaml:6:3: duplicate key 'type' (first at line 5, again at line 6)"]


def test_duplicate_keys_in_json_and_config_name_both_lines(tmp_path):
    text = '{"apiVersion": "v1", "kind": "Service",\n "metadata": {"name": "web"},\n "metadata": {"name": "x"}}\n'
    result = build(tmp_path, {"manifests/svc.json": text})
    assert errors(result, "SRC006") == [
        "manifests/svc.json:3:2: duplicate key 'metadata' (first at line 2, again at line 3)"]
    result = build(tmp_path, {"manifests/svc.yaml": service("web")}, CONFIG + "bigip:\n  partition: other\n")
    assert errors(result, "SRC006") == ["as3-gitops.yaml:4:1: duplicate key 'bigip' (first at line 1, again at line 4)"]


def test_merge_keys_may_be_overridden(tmp_path):
    text = ("base: &b {type: NodePort}\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
            "spec:\n  <<: *b\n  type: ClusterIP\n  ports: [{port: 80}]\n")
    assert "SRC006" not in codes(build(tmp_path, {"manifests/svc.yaml": text}))


@pytest.mark.parametrize("extra, message", [
    ('    virtual-server.f5.com/clientssl: "[]"\n', "virtual-server.f5.com/clientssl: must be a JSON array like"),
    ('    virtual-server.f5.com/health: "null"\n', "virtual-server.f5.com/health: must be a JSON array of monitors"),
])
def test_odd_annotation_values_get_findings(tmp_path, extra, message):
    result = build(tmp_path, {"manifests/svc.yaml": service("web"), "manifests/i.yaml": ingress("web", extra=extra)})
    assert codes(result) == ["ANN005"]
    assert message in errors(result, "ANN005")[0]


# --- defect 11: -o - writes nothing else ------------------------------------------------------

def test_stdout_render_with_bigip_node_writes_nothing_into_the_current_folder(tmp_path, monkeypatch):
    repo = repo_with(tmp_path, {"manifests/ing.yaml": ingress("web")})
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    rc, out, err = cli("render", str(repo), "--no-validate", "-o", "-", "--emit-bigip-node")
    assert rc == 2 and "--emit-bigip-node needs an output folder" in err and out == ""
    assert list(cwd.iterdir()) == []


def test_symlinked_folders_and_loops_inside_the_repository_are_not_errors_of_ours(tmp_path):
    repo = repo_with(tmp_path, {"manifests/ing.yaml": ingress("web"), "other/x.txt": "x"})
    (repo / "manifests" / "folder-link").symlink_to(repo / "other")
    (repo / "manifests" / "loop.yaml").symlink_to(repo / "manifests" / "loop.yaml")
    rc, _out, err = cli("render", str(repo), "--no-validate", "-o", str(tmp_path / "out"))
    assert rc == 2 and "manifests/loop.yaml: error: manifests/loop.yaml: cannot be resolved" in err
    assert "folder-link" not in err and "internal error" not in err


def test_the_same_path_rules_hold_for_a_git_ref(git_repo, tmp_path):
    from renderer.render import render

    git_repo.write({"as3-gitops.yaml": CONFIG + "paths:\n  manifests: [manifests, ../outside]\n",
                    "manifests/svc.yaml": service("web")})
    sha = git_repo.commit(message="climb out")
    result = render(git_repo.path, sha)
    assert [f.code for f in result.findings if f.is_error] == ["CFG004"]
    assert str(result.findings[0].location) == "as3-gitops.yaml:5:26"


def test_ports_beyond_65535_are_findings_not_crashes(tmp_path):
    """Found by the validate fuzz: an Endpoints port of 10**30 reached orjson (exit 5)."""
    endpoints = ("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web, namespace: default}\nsubsets:\n"
                 "- addresses: [{ip: 10.0.0.5}]\n  ports: [{name: http, port: 1000000000000000000000000000000}]\n")
    svc = service("web").replace("nodePort: 30080", "nodePort: " + str(2**64))
    result = build(tmp_path, {"manifests/svc.yaml": svc, "snapshot/ep.yaml": endpoints,
                              "manifests/i.yaml": ingress("web")})
    messages = errors(result, "K8S002")
    assert any("ports.0.port" in m or "port must be from 1 to 65535" in m for m in messages), messages
    assert any("nodePort must be from 1 to 65535" in m for m in messages), messages
