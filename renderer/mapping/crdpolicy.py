"""The Policy custom resource: found where a VirtualServer, TransportServer or LoadBalancer Service
names it, and checked for the fields CIS 2.20 never applies to that kind.

Precedence (CIS 2.20, `handleVSResourceConfigForPolicy` then the resource): the Policy's values go on
first, the resource's own non-empty fields overwrite them, and the Policy's iRules come before the
resource's (crd_common.virtual_properties / irules_of implement it).
"""

from __future__ import annotations

from renderer.errors import Severity
from renderer.kube.crd import CustomResource, PolicyCR
from renderer.kube.objects import ObjectMeta
from renderer.mapping.crd_common import CrdContext

# Policy fields CIS 2.20 reads nowhere for this kind of resource: a finding instead of silence
_IGNORED = {
    "VirtualServer": (("profiles", "profileL4"), ("profiles", "udp"), ("profiles", "ftpProfile"),
                      ("profiles", "sslProfiles"), ("profiles", "rewriteProfile"), ("ltmPolicies",),
                      ("poolSettings", "multiPoolPersistence")),
    "TransportServer": (("l7Policies", "profileAccess"), ("l7Policies", "profileAdapt"),
                        ("l3Policies", "allowSourceRange"),
                        ("profiles", "http"), ("profiles", "http2"), ("profiles", "htmlProfile"),
                        ("profiles", "sslProfiles"), ("profiles", "rewriteProfile"), ("ltmPolicies",),
                        ("defaultPool",), ("autoLastHop",)),
}
_IGNORED["Service"] = _IGNORED["TransportServer"]


def find_policy(ctx: CrdContext, meta: ObjectMeta, name: str, keys: tuple[str | int, ...]) -> PolicyCR | bool | None:
    """The Policy `name` in the resource's namespace; False (with an error) when it does not exist."""
    if not name:
        return None
    policy = ctx.cluster.crds.policies.get((meta.namespace, name))
    if policy is None:
        ctx.error("CRD030", meta, f"Policy {meta.namespace}/{name} does not exist in the manifests", *keys,
                  hint="add the Policy (cis.f5.com/v1) in the same namespace, or fix policyName")
        return False
    for path in _IGNORED.get(meta.kind, ()):
        value = policy.spec
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value not in (None, "", [], {}):
            ctx.error("CRD031", policy.meta, f"{'.'.join(path)} has no effect on {meta.kind} {meta.ident} "
                      "(CIS 2.20 ignores it for this kind)", "spec", *path, severity=Severity.WARNING)
    return policy


def policy_for(ctx: CrdContext, res: CustomResource) -> PolicyCR | bool | None:
    return find_policy(ctx, res.meta, res.text("policyName"), ("spec", "policyName"))
