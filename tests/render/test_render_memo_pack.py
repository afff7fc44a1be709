"""A stored render's packed sources: the round trip gives back every pointer's origins in order, and
an entry of any other shape (corrupt, foreign, another machine's byte order) is not a result.

The checks that guard a lookup are cheap equivalents of a walk over every element (`map`, `sum`,
`max` in C): each case below breaks exactly one guarantee, so a check that is dropped or weakened
fails here."""

from __future__ import annotations

import marshal
import sys
from array import array
from types import SimpleNamespace
from typing import Any

import pytest

from renderer import render_memo
from renderer.errors import Finding, Origin, Severity, SourceLocation
from renderer.mapping.silent import ObjectCounts

SVC = Origin(SourceLocation("manifests/app.yaml", 1, 1), "Service", "default", "app")
SVC_COPY = Origin(SourceLocation("manifests/app.yaml", 1, 1), "Service", "default", "app")  # equal, not the same
NODE = Origin(SourceLocation("snapshot/nodes.yaml", 4), "Node", "", "n1")
ING = Origin(SourceLocation("manifests/app.yaml", 9, 1), "Ingress", "default", "app")
SOURCES = {
    "/k8s/Shared/ingress_app": (ING, SVC),
    "/net/arps/10.244.1.5": (SVC, NODE),
    "/net/arps/10.244.1.6": (SVC_COPY, NODE),
    "/k8s/Shared/empty": (),
    "/net/fdb/aa:bb:cc:00:00:01": (NODE,),
    "/k8s/Shared/three": (NODE, ING, SVC),
}


def packed_value() -> dict[str, Any]:
    result = SimpleNamespace(
        identity="c" * 40, as3={"class": "AS3"}, net={"class": "Net"}, sources=SOURCES,
        findings=[Finding("NET021", "no ARP", SourceLocation("a.yaml", 3), Severity.WARNING, "hint")],
        counts=ObjectCounts(2, 1))
    return marshal.loads(marshal.dumps(render_memo.pack(result), 4))  # as the disk cache gives it back


def test_packed_sources_come_back_in_order_with_equal_origins() -> None:
    fields = render_memo.unpack(packed_value())
    assert fields is not None
    sources = fields["sources"]
    assert list(sources) == list(SOURCES) and len(sources) == len(SOURCES)
    assert {k: sources[k] for k in sources} == SOURCES
    assert sources.get("/net/arps/10.9.9.9") is None
    assert fields["counts"] == ObjectCounts(2, 1) and fields["findings"][0].code == "NET021"
    # one row per distinct object: the equal copy is a row of its own, the shared ones are one
    assert len(packed_value()["origins"]) == 4


def _layout(tag: str) -> Any:
    return lambda v: {**v, "sources": (tag, *v["sources"][1:])}


def _counts(values: list[int]) -> Any:
    return lambda v: {**v, "sources": (*v["sources"][:2], array("I", values).tobytes(), v["sources"][3])}


def _rows_numbers(values: list[int]) -> Any:
    return lambda v: {**v, "sources": (*v["sources"][:3], array("I", values).tobytes())}


def _pointers(fn: Any) -> Any:
    return lambda v: {**v, "sources": (v["sources"][0], fn(v["sources"][1]), *v["sources"][2:])}


OTHER_ORDER = "little" if sys.byteorder == "big" else "big"
BROKEN = {
    "another byte order": _layout(f"I{array('I').itemsize}{OTHER_ORDER}"),
    "another int size": _layout(f"I{array('I').itemsize * 2}{sys.byteorder}"),
    "counts of a wrong length in bytes": lambda v: {**v, "sources": (*v["sources"][:2], v["sources"][2][:-1],
                                                                   v["sources"][3])},
    "counts that do not add up": _counts([2, 2, 2, 0, 1, 2]),
    "one count short": _counts([2, 2, 2, 0, 1]),
    "a row number out of range": _rows_numbers([0, 1, 1, 2, 3, 2, 2, 2, 0, 4]),
    "counts as a list": lambda v: {**v, "sources": (*v["sources"][:2], [2, 2, 2, 0, 1, 3], v["sources"][3])},
    "a pointer twice": _pointers(lambda p: [p[0], *p[:-1]]),
    "a pointer that is not a string": _pointers(lambda p: [*p[:-1], 7]),
    "pointers as a tuple": _pointers(tuple),
    "an unhashable pointer": _pointers(lambda p: [*p[:-1], ["x"]]),
    "a row of three": lambda v: {**v, "origins": [*v["origins"][:-1], v["origins"][-1][:3]]},
    "a row that is a list": lambda v: {**v, "origins": [*v["origins"][:-1], list(v["origins"][-1])]},
    "rows as a tuple": lambda v: {**v, "origins": tuple(v["origins"])},
    "the old layout (a dict)": lambda v: {**v, "sources": {k: (0,) for k in SOURCES}},
    "no sources": lambda v: {k: x for k, x in v.items() if k != "sources"},
    "a declaration that is not a dict": lambda v: {**v, "as3": ["AS3"]},
}


def test_the_unbroken_value_is_a_result() -> None:
    value = packed_value()
    assert render_memo.unpack(value) is not None
    # the rows: ING 0, SVC 1, NODE 2, SVC_COPY 3; the damaged cases below start from these numbers
    assert array("I", value["sources"][3]).tolist() == [0, 1, 1, 2, 3, 2, 2, 2, 0, 1]
    assert array("I", value["sources"][2]).tolist() == [2, 2, 2, 0, 1, 3]
    assert render_memo.unpack(_rows_numbers([0, 1, 1, 2, 3, 2, 2, 2, 0, 3])(value)) is not None


@pytest.mark.parametrize("damage", list(BROKEN.values()), ids=list(BROKEN))
def test_a_broken_entry_is_not_a_result(damage: Any) -> None:
    assert render_memo.unpack(damage(packed_value())) is None
