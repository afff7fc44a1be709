"""Frozen, typed views of the Kubernetes objects rendering needs.

Raw manifest dicts stop here: later stages read attributes, never `obj["spec"]["rules"]`.
Every view keeps its `Document` so a finding can point at the exact key later.

A view the view cache revives (renderer/kube/view_cache.py) may leave the fields of `LATER` unset
until first read: a run reads an Ingress's rules, a Service's ports, an Endpoints' subsets only for
the few it builds pools for (the other Ingresses' builds are reused). Such a field reads through a
`_LaterSlot`, which fills an unset one from the view's `_later` first (the same values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from renderer.errors import Origin, SourceLocation
from renderer.source import Document


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    kind: str
    api_version: str
    namespace: str
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]
    doc: Document = field(compare=False, repr=False)
    # keys of `doc.data` leading to this object (non-empty for items of a `kind: List`)
    base: tuple[str | int, ...] = field(default=(), compare=False, repr=False)
    _origin: Origin | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def origin(self) -> Origin:
        """Cheap: the document's start line (items of a `kind: List` share it); for diffs and sources.
        Made once per object and shared (an Origin is frozen): a pool, its virtual server, its ARPs
        and the render memo's table of origins all hold the same one."""
        made = self._origin
        if made is None:
            made = Origin(self.doc.location, self.kind, self.namespace, self.name)
            object.__setattr__(self, "_origin", made)
        return made

    @property
    def location(self) -> SourceLocation:
        """Precise (found lazily, on the error path only): where this object starts."""
        return self.doc.locate(*self.base) if self.base else self.doc.location

    def locate(self, *keys: str | int, value: bool = True):
        return self.doc.locate(*self.base, *keys, value=value)

    @property
    def ident(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True, slots=True)
class BackendRef:
    service: str
    port: int | str  # number, or the Service port's name
    keys: tuple[str | int, ...]  # where in the Ingress the backend is


@dataclass(frozen=True, slots=True)
class IngressPath:
    path: str
    backend: BackendRef


@dataclass(frozen=True, slots=True)
class IngressRule:
    host: str
    paths: tuple[IngressPath, ...]


@dataclass(frozen=True, slots=True)
class IngressTLS:
    hosts: tuple[str, ...]
    secret_name: str | None


@dataclass(frozen=True, slots=True)
class Ingress:
    meta: ObjectMeta
    class_annotation: str | None
    class_name: str | None
    default_backend: BackendRef | None
    rules: tuple[IngressRule, ...]
    tls: tuple[IngressTLS, ...]
    _later: Any = field(default=None, init=False, compare=False, repr=False)  # see LATER

    @property
    def is_single_service(self) -> bool:
        return self.default_backend is not None and not any(r.paths for r in self.rules)


@dataclass(frozen=True, slots=True)
class RouteBackend:
    service: str
    weight: int
    keys: tuple[str | int, ...]  # where in the Route the backend is


@dataclass(frozen=True, slots=True)
class RouteTLS:
    termination: str  # edge | reencrypt | passthrough
    certificate: str | None
    key: str | None
    ca_certificate: str | None
    destination_ca: str | None
    insecure_policy: str  # "" | Allow | Redirect | None


@dataclass(frozen=True, slots=True)
class Route:
    """route.openshift.io/v1 Route."""

    meta: ObjectMeta
    host: str
    path: str
    backends: tuple[RouteBackend, ...]  # spec.to first, then spec.alternateBackends
    target_port: int | str | None
    tls: RouteTLS | None


@dataclass(frozen=True, slots=True)
class IngressClass:
    meta: ObjectMeta
    controller: str
    is_default: bool


@dataclass(frozen=True, slots=True)
class ServicePort:
    name: str
    port: int
    target_port: int | str | None
    node_port: int | None
    protocol: str


@dataclass(frozen=True, slots=True)
class Service:
    meta: ObjectMeta
    type: str
    headless: bool
    ports: tuple[ServicePort, ...]
    load_balancer_class: str | None = None
    _later: Any = field(default=None, init=False, compare=False, repr=False)  # see LATER

    def port_for(self, ref: int | str) -> ServicePort | None:
        for port in self.ports:
            if (isinstance(ref, int) and port.port == ref) or (isinstance(ref, str) and port.name == ref):
                return port
        return None


@dataclass(frozen=True, slots=True)
class EndpointAddress:
    ip: str
    node_name: str | None
    ready: bool


@dataclass(frozen=True, slots=True)
class EndpointPort:
    name: str
    port: int
    protocol: str


@dataclass(frozen=True, slots=True)
class EndpointSubset:
    addresses: tuple[EndpointAddress, ...]
    ports: tuple[EndpointPort, ...]


@dataclass(frozen=True, slots=True)
class Endpoints:
    """core/v1 Endpoints, or the EndpointSlices of one Service folded into the same shape."""

    meta: ObjectMeta
    subsets: tuple[EndpointSubset, ...]
    from_slices: bool = False
    _later: Any = field(default=None, init=False, compare=False, repr=False)  # see LATER


@dataclass(frozen=True, slots=True)
class EndpointSlice:
    meta: ObjectMeta
    service: str | None
    address_type: str
    subset: EndpointSubset
    _later: Any = field(default=None, init=False, compare=False, repr=False)  # see LATER


@dataclass(frozen=True, slots=True)
class Node:
    meta: ObjectMeta
    addresses: tuple[tuple[str, str], ...]  # (type, address)
    ready: bool | None  # None: no Ready condition
    pod_cidrs: tuple[str, ...]

    def address(self, kind: str) -> str | None:
        for typ, addr in self.addresses:
            if typ == kind:
                return addr
        return None

    @property
    def is_ready(self) -> bool:
        return self.ready is not False


@dataclass(frozen=True, slots=True)
class BlockAffinity:
    """Calico's `crd.projectcalico.org/v1` BlockAffinity: a pod address block assigned to a node
    (CIS reads these for static routes with --orchestration-cni calico-k8s)."""

    meta: ObjectMeta
    node: str
    cidr: str


@dataclass(frozen=True, slots=True)
class Secret:
    meta: ObjectMeta
    type: str
    data: dict[str, str]  # decoded text values


@dataclass(frozen=True, slots=True)
class ConfigMap:
    meta: ObjectMeta
    data: dict[str, str]


# Constructors for the two views made most often: one ObjectMeta per object, and ten EndpointAddress
# per Endpoints of a snapshot. A frozen dataclass's __init__ assigns each field through
# object.__setattr__; these fill the slots through their descriptors instead: the same object (every
# slot, `_origin` included), for half the instructions. tests/kube/test_kube_objects.py holds them to
# the dataclass constructors, field by field.
_new = object.__new__
_META_SLOTS = tuple(getattr(ObjectMeta, name).__set__ for name in (
    "kind", "api_version", "namespace", "name", "labels", "annotations", "doc", "base", "_origin"))
_ADDRESS_SLOTS = tuple(getattr(EndpointAddress, name).__set__ for name in ("ip", "node_name", "ready"))


def object_meta(kind: str, api_version: str, namespace: str, name: str, labels: dict[str, str],
                annotations: dict[str, str], doc: Document, base: tuple[str | int, ...]) -> ObjectMeta:
    """ObjectMeta(kind, api_version, namespace, name, labels, annotations, doc, base), made faster."""
    set_kind, set_api, set_namespace, set_name, set_labels, set_annotations, set_doc, set_base, set_origin = \
        _META_SLOTS
    meta = _new(ObjectMeta)
    set_kind(meta, kind)
    set_api(meta, api_version)
    set_namespace(meta, namespace)
    set_name(meta, name)
    set_labels(meta, labels)
    set_annotations(meta, annotations)
    set_doc(meta, doc)
    set_base(meta, base)
    set_origin(meta, None)
    return meta


def endpoint_address(ip: str, node_name: str | None, ready: bool) -> EndpointAddress:
    """EndpointAddress(ip, node_name, ready), made faster."""
    set_ip, set_node, set_ready = _ADDRESS_SLOTS
    address = _new(EndpointAddress)
    set_ip(address, ip)
    set_node(address, node_name)
    set_ready(address, ready)
    return address


# view class -> the fields a revived view may leave unset until first read
LATER: dict[type, tuple[str, ...]] = {
    Ingress: ("default_backend", "rules"),
    Service: ("ports",),
    Endpoints: ("subsets",),
    EndpointSlice: ("subset",),
}


class _LaterSlot:
    """A LATER field read through its slot; an unset slot (a view revived with the field left for
    later) is filled from the view's `_later` first: (source, key), `source(view, key)` giving the
    values of all the class's LATER fields (the view cache's stored part, or reading the document
    again), set once, then `_later` None. A descriptor, not a `__getattr__`, so reading the other
    fields stays the interpreter's fast path."""

    __slots__ = ("_get_later", "_name", "_set_later", "_setters", "slot")

    def __init__(self, cls: type, name: str, names: tuple[str, ...]) -> None:
        self.slot = vars(cls)[name]  # the member descriptor dataclass(slots=True) made
        self._name = name
        self._get_later = cls._later.__get__  # type: ignore[attr-defined]
        self._set_later = cls._later.__set__  # type: ignore[attr-defined]
        self._setters = tuple(vars(cls)[n].__set__ for n in names)

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        try:
            return self.slot.__get__(obj, owner)
        except AttributeError:
            later = self._get_later(obj)
            if later is None:
                raise
        source, key = later
        for setter, value in zip(self._setters, source(obj, key), strict=True):
            setter(obj, value)
        self._set_later(obj, None)
        return self.slot.__get__(obj, owner)

    def __set__(self, obj: Any, value: Any) -> None:
        self.slot.__set__(obj, value)

    def __delete__(self, obj: Any) -> None:
        self.slot.__delete__(obj)


def _read_later(cls: type, names: tuple[str, ...]) -> None:
    """Put a `_LaterSlot` in front of each of `cls`'s LATER fields."""
    slots = [_LaterSlot(cls, name, names) for name in names]
    for name, slot in zip(names, slots, strict=True):
        setattr(cls, name, slot)


for _cls, _names in LATER.items():
    _read_later(_cls, _names)
