"""Pure rules of the deploy plan on plain declarations: ownership, lease commit, tenant changes."""

from __future__ import annotations

from renderer.bigip import tenants as tn

SHA = "0123456789abcdef0123456789abcdef01234567"


def tenant(pool_ip: str = "10.0.0.1", label: str | None = "as3-gitops") -> dict:
    body = {
        "class": "Tenant",
        "Shared": {
            "class": "Application",
            "template": "shared",
            "p": {"class": "Pool", "members": [{"serverAddresses": [pool_ip]}]},
        },
    }
    if label:
        body["label"] = label
    return body


def adc(**tenants: dict) -> dict:
    return {
        "class": "ADC",
        "schemaVersion": "3.56.0",
        "id": f"as3-gitops-{SHA[:12]}",
        "label": "as3-gitops",
        "remark": f"as3-gitops {SHA}",
        **tenants,
    }


def test_device_commit_comes_from_remark_then_id() -> None:
    assert tn.device_commit(adc()) == SHA
    assert tn.device_commit({"id": "as3-gitops-working-tree"}) == "working tree"
    assert tn.device_commit({"id": "as3-gitops-0123456789ab"}) == "0123456789ab"
    assert tn.device_commit({"id": "k8s-2026", "remark": "set by CIS"}) is None
    assert tn.device_commit(None) is None


def test_owned_tenants_are_rendered_ones_plus_device_ones_with_our_marker() -> None:
    device = {**adc(a=tenant(), other=tenant(label=None)), "old": tenant()}
    rendered = adc(a=tenant(), new=tenant())
    assert tn.owned_tenants(rendered, device) == ["a", "new", "old"]


def test_lock_keys_and_archive_stamps_are_not_changes() -> None:
    device = adc(a={**tenant(), "optimisticLockKey": "k1"})
    assert tn.changed_tenants(["a"], device, adc(a=tenant())) == []
    assert tn.lock_keys_of(device) == {"a": "k1"}


def test_changed_tenants_finds_member_change_new_and_deleted_tenants() -> None:
    device = adc(a=tenant("10.0.0.1"), b=tenant(), gone=tenant())
    rendered = adc(a=tenant("10.0.0.2"), b=tenant(), fresh=tenant())
    owned = tn.owned_tenants(rendered, device)
    assert tn.changed_tenants(owned, device, rendered) == ["a", "fresh", "gone"]


def test_empty_tenant_on_both_sides_is_no_change() -> None:
    assert tn.changed_tenants(["a"], adc(), adc(a={"class": "Tenant", "label": "as3-gitops"})) == []


def test_declaration_posts_exactly_the_given_tenants_with_lock_keys_and_deletes() -> None:
    body = tn.declaration(
        tn.header_of(adc()), {"a": tenant(), "gone": None}, action="dry-run", lock_keys={"a": "k1", "gone": "k2"}
    )
    assert body["class"] == "AS3" and body["action"] == "dry-run" and body["persist"] is False
    decl = body["declaration"]
    assert decl["updateMode"] == "selective"
    assert decl["a"]["optimisticLockKey"] == "k1"
    assert decl["gone"] == {"class": "Tenant", "optimisticLockKey": "k2"}
    assert sorted(k for k, v in decl.items() if tn.is_tenant(v)) == ["a", "gone"]


def test_header_drops_archive_timestamp() -> None:
    head = tn.header_of({**adc(), "controls": {"class": "Controls", "archiveTimestamp": "2026-01-01T00:00:00Z"}})
    assert head["controls"] == {"class": "Controls"}


def test_compare_objects_splits_not_restored_from_in_neither_state() -> None:
    old = adc(a=tenant("10.0.0.1"))
    new = adc(a=tenant("10.0.0.2"))
    assert tn.compare_objects(["a"], adc(a=tenant("10.0.0.1")), old, new) == ([], [])
    assert tn.compare_objects(["a"], adc(a=tenant("10.0.0.2")), old, new) == ([], ["/a/Shared/p"])
    assert tn.compare_objects(["a"], adc(a=tenant("10.9.9.9")), old, new) == (["/a/Shared/p"], ["/a/Shared/p"])


def test_state_hash_ignores_lock_keys_and_sees_members() -> None:
    net = {"arps": []}
    h = tn.state_hash({"a": tenant()}, net)
    assert h == tn.state_hash({"a": {**tenant(), "optimisticLockKey": "zz"}}, net)
    assert h != tn.state_hash({"a": tenant("10.0.0.9")}, net)
    assert h.startswith("sha256:") and len(h) == 7 + 64
