"""OpenShift Route documents (route.openshift.io/v1) -> views."""

from __future__ import annotations

from renderer.errors import Finding
from renderer.kube.objects import ObjectMeta, Route, RouteBackend, RouteTLS
from renderer.kube.reader import Reader

ROUTE_API_VERSIONS = ("route.openshift.io/v1",)
TERMINATIONS = ("edge", "reencrypt", "passthrough")
INSECURE_POLICIES = ("", "Allow", "Redirect", "None")


def read_route(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Route | None:
    if meta.api_version not in ROUTE_API_VERSIONS:
        findings.append(Finding("K8S004", f"Route apiVersion {meta.api_version} is not supported",
                                meta.locate("apiVersion"), hint="use route.openshift.io/v1"))
        return None
    r = Reader(meta.doc, meta.base, findings, f"Route {meta.ident}")
    spec = r.one(data, "spec", dict, {})
    backends = []
    to = r.one(spec, "to", dict, {}, at=("spec",))
    name = r.one(to, "name", str, at=("spec", "to"))
    if not name:
        if to.get("name") is None or to.get("name") == "":  # a mistyped name has its finding already
            r.bad(("spec", "to"), "spec.to.name (the Service) is required")
        return None
    def weight(raw: dict, keys: tuple[str | int, ...]) -> int:
        value = r.one(raw, "weight", int, 100, at=keys)
        if not 0 <= value <= 256:
            r.bad([*keys, "weight"], "weight must be from 0 to 256")
            return 100
        return value

    backends.append(RouteBackend(name, weight(to, ("spec", "to")), ("spec", "to")))
    for i, alt in enumerate(r.one(spec, "alternateBackends", list, [], at=("spec",))):
        alt_name = r.one(alt, "name", str, at=("spec", "alternateBackends", i)) if isinstance(alt, dict) else None
        if not alt_name:
            if not (isinstance(alt, dict) and alt.get("name") not in (None, "")):  # else: mistyped, found
                r.bad(("spec", "alternateBackends", i), "each alternate backend needs a name")
            continue
        keys = ("spec", "alternateBackends", i)
        backends.append(RouteBackend(alt_name, weight(alt, keys), keys))
    target = r.get(spec, ("port", "targetPort"), (int, str), at=("spec",))
    if isinstance(target, str) and target.isdigit():
        target = int(target)
    tls = None
    raw_tls = r.one(spec, "tls", dict, at=("spec",))
    if raw_tls is not None:
        at = ("spec", "tls")
        termination = r.one(raw_tls, "termination", str, "", at=at)
        policy = r.one(raw_tls, "insecureEdgeTerminationPolicy", str, "", at=at)
        if termination not in TERMINATIONS:
            if type(raw_tls.get("termination", "")) is str:  # else: mistyped, found already
                r.bad(("spec", "tls", "termination"),
                      f"spec.tls.termination must be one of {', '.join(TERMINATIONS)}")
            return None
        if policy not in INSECURE_POLICIES:
            if type(raw_tls.get("insecureEdgeTerminationPolicy", "")) is str:
                r.bad(("spec", "tls", "insecureEdgeTerminationPolicy"),
                      "spec.tls.insecureEdgeTerminationPolicy must be Allow, Redirect or None")
            return None
        tls = RouteTLS(termination, r.one(raw_tls, "certificate", str, at=at), r.one(raw_tls, "key", str, at=at),
                       r.one(raw_tls, "caCertificate", str, at=at),
                       r.one(raw_tls, "destinationCACertificate", str, at=at),
                       policy)
    return Route(meta, r.one(spec, "host", str, "", at=("spec",)), r.one(spec, "path", str, "", at=("spec",)),
                 tuple(backends), target, tls)
