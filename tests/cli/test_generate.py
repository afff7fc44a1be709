"""Issue 16 item 11: `generate:` in as3-gitops.yaml (Helm and Kustomize users). A committed stand-in
generator prints the Service and the Ingress from a committed values file; render --ref, diff
--base/--head and the working tree each generate from their own tree."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from cli_capture import (
    _schema_env,  # noqa: F401 (_schema_env is autouse)
    cli,
)
from generate_repo import CHART_ENTRY, python_entry, set_values, write_repo

from renderer.render import render

LABEL = f"generate[0] ({Path(sys.executable).name} chart/generate.py chart/values.json)"


@pytest.fixture
def chart_repo(make_repo):
    repo = make_repo()
    write_repo(repo.path)
    repo.commit(message="web chart, ip .250")
    return repo


def as3_of(args: list[str], out: Path) -> dict:
    code, _, err = cli([*args, "-o", str(out)])
    assert code == 0, err
    return json.loads((out / "as3.json").read_text())


def test_render_ref_renders_the_generated_manifests(chart_repo, tmp_path: Path) -> None:
    as3 = as3_of(["render", str(chart_repo.path), "--ref", "HEAD"], tmp_path / "o")
    shared = as3["declaration"]["kubernetes"]["Shared"]
    assert shared["ingress_192_168_1_250_80"]["virtualAddresses"] == ["192.168.1.250"]
    pool = shared["ingress_default_web_hello_world_svc_80"]
    assert [m["serverAddresses"] for m in pool["members"]] == [["10.10.1.5"], ["10.10.1.6"], ["10.10.2.7"]]
    result = render(chart_repo.path, "HEAD")
    assert result.ok and list(result.generated) == [LABEL]
    origins = result.sources["/kubernetes/Shared/ingress_192_168_1_250_80"]
    assert [(o.location.path, o.location.line, o.kind) for o in origins] == [(LABEL, 17, "Ingress")]


def test_diff_generates_each_side_from_its_own_commit(chart_repo) -> None:
    base = chart_repo.git("rev-parse", "HEAD")
    set_values(chart_repo.path, ip="192.168.1.251", balance="least-connections-member")
    head = chart_repo.commit(message="values: new VIP, balance")
    set_values(chart_repo.path, ip="192.168.1.99")  # the dirty working tree is neither side
    code, out, err = cli(["diff", str(chart_repo.path), "--base", base, "--head", head])
    assert code == 0, err
    assert "- Service_HTTP /kubernetes/Shared/ingress_192_168_1_250_80" in out
    assert "+ Service_HTTP /kubernetes/Shared/ingress_192_168_1_251_80" in out
    assert '~ Pool /kubernetes/Shared/ingress_default_web_hello_world_svc_80' in out
    assert 'loadBalancingMode: "round-robin" -> "least-connections-member"' in out
    assert f"from {LABEL}: Ingress default/web" in out  # origin attribution names the entry
    assert "192.168.1.99" not in out
    code, out, _ = cli(["diff", str(chart_repo.path), "--base", base, "--head", base, "--exit-code"])
    assert code == 0 and "No changes" in out


def test_working_tree_render_runs_in_the_folder_as_it_is(chart_repo, tmp_path: Path) -> None:
    set_values(chart_repo.path, ip="192.168.1.77")  # not committed: the working tree is dirty
    result = render(chart_repo.path)
    assert result.ok and result.identity == "working tree"
    assert "ingress_192_168_1_77_80" in result.adc["kubernetes"]["Shared"]
    chart_repo.commit(message="77")
    assert render(chart_repo.path).identity == chart_repo.git("rev-parse", "HEAD")  # clean: its commit


def test_a_folder_outside_git_renders_its_generated_manifests(tmp_path: Path) -> None:
    write_repo(tmp_path / "plain")
    result = render(tmp_path / "plain")
    assert result.ok and result.identity == "working tree", result.findings
    assert "ingress_192_168_1_250_80" in result.adc["kubernetes"]["Shared"]


def test_output_is_byte_identical_run_after_run(chart_repo, tmp_path: Path) -> None:
    outs = []
    for i, extra in enumerate(([], [], ["--no-cache"])):  # cold cache, warm cache, no cache
        out = tmp_path / f"o{i}"
        code, _, err = cli(["render", str(chart_repo.path), "--ref", "HEAD", "-o", str(out), *extra])
        assert code == 0, err
        outs.append(((out / "as3.json").read_bytes(), (out / "net.json").read_bytes()))
    assert outs[0] == outs[1] == outs[2]


def test_a_generated_stream_is_a_parse_cache_hit_on_the_next_run(chart_repo, tmp_path: Path) -> None:
    from renderer.cache import DiskCache
    from renderer.source import ParseCache

    first, second = DiskCache(tmp_path / "c"), DiskCache(tmp_path / "c")
    assert render(chart_repo.path, "HEAD", cache=ParseCache(first)).ok
    again = render(chart_repo.path, "HEAD", cache=ParseCache(second))
    assert again.ok and first.writes > 0
    # the stream too: every lookup a hit, nothing parsed (nor anything else made) again
    assert second.writes == 0 and second.misses == 0 and second.hits > 0


def test_the_parse_cache_never_serves_an_old_stream_under_the_same_pseudo_path(chart_repo, tmp_path: Path) -> None:
    """The streams are cached by content: the pseudo-path stays, the values change, the output follows."""
    vips = []
    for ip in ("192.168.1.31", "192.168.1.32", "192.168.1.31"):
        set_values(chart_repo.path, ip=ip)
        as3 = as3_of(["render", str(chart_repo.path)], tmp_path / ip)
        vips.append(sorted(k for k in as3["declaration"]["kubernetes"]["Shared"] if k.startswith("ingress_192")))
    assert vips == [["ingress_192_168_1_31_80"], ["ingress_192_168_1_32_80"], ["ingress_192_168_1_31_80"]]


def test_a_monorepo_folder_generates_from_a_chart_outside_it(make_repo) -> None:
    """envs/prod runs `../../charts/...`: the whole commit is extracted, cwd is the config folder."""
    repo = make_repo()
    write_repo(repo.path / "envs" / "prod", [python_entry("../../charts/web/generate.py", "values-prod.json")])
    chart = repo.path / "envs" / "prod" / "chart"
    (repo.path / "charts" / "web").mkdir(parents=True)
    shutil.move(chart / "generate.py", repo.path / "charts" / "web" / "generate.py")
    shutil.move(chart / "values.json", repo.path / "envs" / "prod" / "values-prod.json")
    chart.rmdir()
    sha = repo.commit(message="monorepo")
    result = render(repo.path / "envs" / "prod", "HEAD")
    assert result.ok, result.findings
    assert result.identity == sha and "ingress_192_168_1_250_80" in result.adc["kubernetes"]["Shared"]


def test_string_entries_are_split_into_words_and_never_run_by_a_shell(make_repo, tmp_path: Path) -> None:
    repo = make_repo()
    marker = tmp_path / "shell-ran"
    echo_argv = ("import json, sys; print(json.dumps({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': "
                 "{'name': 'argv', 'namespace': 'default'}, 'data': {'argv': json.dumps(sys.argv[1:])}}))")
    write_repo(repo.path, [f"'{sys.executable}' chart/generate.py chart/values.json",
                           f'{sys.executable} -c "{echo_argv}" ; touch {marker} $HOME'])
    repo.commit(message="strings")
    result = render(repo.path, "HEAD")
    assert result.ok, result.findings
    assert "ingress_192_168_1_250_80" in result.adc["kubernetes"]["Shared"]
    stream = json.loads(next(v for k, v in result.generated.items() if k.startswith("generate[1] (")))
    assert json.loads(stream["data"]["argv"]) == [";", "touch", str(marker), "$HOME"]  # words, no shell
    assert not marker.exists()


def test_snapshot_capture_keeps_the_services_generated_manifests_use(chart_repo) -> None:
    from renderer.snapshot.plan import referenced_services, repo_config

    assert referenced_services(chart_repo.path, repo_config(chart_repo.path)) == {("default", "hello-world-svc")}


def test_the_validation_locator_reads_generated_streams_from_the_render(chart_repo) -> None:
    """AS3 errors are mapped to the manifest line through the locator: for a generated object it reads
    the stream the render kept (the command does not run again), not a file of that name."""
    from renderer.source import open_tree
    from renderer.validate.locate import tree_locator

    result = render(chart_repo.path, "HEAD")
    origins = result.sources["/kubernetes/Shared/ingress_default_web_hello_world_svc_80"]
    pointer = "/kubernetes/Shared/ingress_default_web_hello_world_svc_80/loadBalancingMode"
    tree = open_tree(chart_repo.path, "HEAD")
    found = tree_locator(tree, result.generated)(origins, pointer)
    assert (found.path, found.line) == (LABEL, 25)  # the balance annotation inside the stream
    assert tree_locator(tree)(origins, pointer) is None  # without the streams: nothing to read


def test_a_finding_about_a_generated_object_names_the_entry_and_the_line(chart_repo) -> None:
    set_values(chart_repo.path, balance="least-connections")
    chart_repo.commit(message="bad balance")
    code, _, err = cli(["render", str(chart_repo.path), "--ref", "HEAD", "-o", "-"])
    assert code == 2
    assert err.startswith(f"{LABEL}:25:36: error: virtual-server.f5.com/balance: 'least-connections'"), err


def test_plan_and_deploy_ref_use_generated_manifests(monkeypatch, make_repo, bigip_emulator, tmp_path: Path) -> None:
    """The real deploy path against the emulator: BIGIP_* are in as3-gitops' environment, the
    generators still never see them."""
    monkeypatch.setenv("BIGIP_USERNAME", bigip_emulator.username)
    monkeypatch.setenv("BIGIP_PASSWORD", bigip_emulator.password)
    monkeypatch.setenv("BIGIP_HOST", bigip_emulator.url)
    dump = tmp_path / "env.json"
    spy = python_entry("-c", f"import json, os; json.dump(sorted(os.environ), open({str(dump)!r}, 'w')); "
                       "print('# no manifests')")
    repo = make_repo()
    write_repo(repo.path, [CHART_ENTRY, spy])
    repo.commit(message="chart")
    fast = ["--busy-backoff", "0.05", "--poll-interval", "0.02"]
    code, _, err = cli(["deploy", str(repo.path), "--ref", "HEAD", *fast])
    assert code == 0, err
    tenant = bigip_emulator.control.state()["as3"]["tenants"]["kubernetes"]
    assert "ingress_192_168_1_250_80" in json.dumps(tenant)
    assert not [name for name in json.loads(dump.read_text()) if name.startswith("BIGIP")]
    set_values(repo.path, ip="192.168.1.251")
    repo.commit(message="new VIP")
    code, out, err = cli(["plan", str(repo.path), "--ref", "HEAD", "--exit-code"])
    assert code == 1, err
    assert "+ Service_HTTP /kubernetes/Shared/ingress_192_168_1_251_80" in out and f"from {LABEL}" in out
    code, _, err = cli(["deploy", str(repo.path), "--ref", "HEAD", *fast])
    assert code == 0, err
    assert "ingress_192_168_1_251_80" in json.dumps(bigip_emulator.control.state()["as3"]["tenants"]["kubernetes"])


def test_render_dash_replaces_only_paths_manifests(tmp_path: Path) -> None:
    """`render -`: the stream stands for paths.manifests; generate: still runs in the folder."""
    from renderer.render import render_stdin

    write_repo(tmp_path / "r")
    piped = b"".join(b"---\n" + p.read_bytes() for p in sorted((tmp_path / "r" / "manifests").glob("*.yaml")))
    for p in (tmp_path / "r" / "manifests").glob("*.yaml"):
        p.unlink()
    result = render_stdin(tmp_path / "r", piped)
    assert result.ok, result.findings
    shared = result.adc["kubernetes"]["Shared"]
    assert "ingress_192_168_1_250_80" in shared  # generated
    assert any(k.startswith("cfgmap_default_vs_02") for k in shared)  # from stdin


def test_working_dir_and_timeout_fields(make_repo) -> None:
    repo = make_repo()
    write_repo(repo.path, [python_entry("generate.py", "values.json", workingDir="chart", timeout=30)])
    repo.commit(message="workingDir")
    result = render(repo.path, "HEAD")
    assert result.ok, result.findings
    assert list(result.generated) == [f"generate[0] ({Path(sys.executable).name} generate.py values.json)"]


def test_labels_are_printable_and_bounded() -> None:
    from renderer.errors import SourceLocation
    from renderer.generate.spec import GenerateSpec

    spec = GenerateSpec(3, ("/usr/bin/sh", "-c", "kustomize build overlays/prod\n| grep -v x" + " y" * 40),
                        SourceLocation("as3-gitops.yaml", 9, 5))
    assert spec.label == "generate[3] (sh -c 'kustomize build overlays/prod\\n| grep -v x y y y y...)"


KUSTOMIZE_PATCH = """resources:
  - ../../base
patches:
  - target:
      kind: Ingress
      name: vs-01
    patch: |-
      - op: replace
        path: /metadata/annotations/virtual-server.f5.com~1ip
        value: "{ip}"
"""


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with its built-in kustomize) is not installed")
def test_real_kustomize_overlays_through_kubectl(make_repo) -> None:
    """The real tool, offline: `kubectl kustomize overlays/prod` (kustomize build) of a base and a patch."""
    from generate_repo import HELLO

    repo = make_repo()
    write_repo(repo.path, [["kubectl", "kustomize", "overlays/prod"]])
    (repo.path / "base").mkdir()
    for name in ("service.yaml", "vs-01.yaml"):
        shutil.copy(HELLO / "manifests" / name, repo.path / "base" / name)
    (repo.path / "base" / "kustomization.yaml").write_text("resources:\n  - service.yaml\n  - vs-01.yaml\n")
    (repo.path / "overlays" / "prod").mkdir(parents=True)
    overlay = repo.path / "overlays" / "prod" / "kustomization.yaml"
    overlay.write_text(KUSTOMIZE_PATCH.format(ip="192.168.1.240"))
    base = repo.commit(message="kustomize")
    overlay.write_text(KUSTOMIZE_PATCH.format(ip="192.168.1.241"))
    head = repo.commit(message="prod VIP")
    code, out, err = cli(["diff", str(repo.path), "--base", base, "--head", head])
    assert code == 0, err
    assert "- Service_HTTP /kubernetes/Shared/ingress_192_168_1_240_80" in out
    assert "+ Service_HTTP /kubernetes/Shared/ingress_192_168_1_241_80" in out
    assert "from generate[0] (kubectl kustomize overlays/prod): Ingress default/vs-01" in out
