"""Which pattern AS3 checks a pointer against depends on the object that holds it.

AS3 3.56.0 (src/lib/util/extractUtil.js, getAs3Object) checks a pointer written deeper than
/Tenant/Application/object against its application-level pattern (names may hold "-", the last
name has two characters at least) unless the object holding the pointer (the pointer tag's
parentData) has `"class": "Constants"`; then the default pattern applies ("-" refused, one
character allowed). `Pointer_Monitor` (`{"use": ...}` in a pool's `monitors`) admits any extra
property, so `{"use": "m", "class": "Constants"}` is such a holder. Our resolver used to look the
holder up from the pointer's leading empty token, found nothing, and always took the
application-level pattern: it refused what AS3 accepts and accepted what AS3 refuses.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from renderer.validate import As3Validator
from renderer.validate.pointers import PointerProblem, resolve

INVALID = "contains an invalid path (invalid character)"


def _decl(use: dict[str, Any]) -> dict[str, Any]:
    return {"class": "ADC", "T": {"class": "Tenant", "A": {
        "class": "Application",
        "pp": {"class": "Pool", "monitors": [use]},
        "m": {"class": "Monitor", "monitorType": "tcp"},
        "mon-1": {"class": "Monitor", "monitorType": "tcp"},
    }}}


@pytest.mark.parametrize(("holder", "value", "ok"), [
    ({}, "m", False),  # application level: the last name needs two characters
    ({"class": "Constants"}, "m", True),  # default pattern: one character is enough
    ({}, "mon-1", True),  # application level: "-" allowed
    ({"class": "Constants"}, "mon-1", False),  # default pattern: no "-"
    ({"class": "Monitor"}, "m", False),  # any other class: application level
])
def test_the_holder_of_the_pointer_selects_the_pattern(holder: dict[str, Any], value: str, ok: bool) -> None:
    decl = _decl({"use": value, **holder})
    pointer = "/T/A/pp/monitors/0/use"
    if ok:
        assert resolve(value, pointer, decl) is decl["T"]["A"][value]
    else:
        with pytest.raises(PointerProblem) as info:
            resolve(value, pointer, decl)
        assert str(info.value) == INVALID


def test_a_missing_holder_is_not_a_crash() -> None:
    """A pointer whose parent path is not in the declaration (a caller's bug, not AS3 input): app level."""
    decl = _decl({"use": "mon-1"})
    assert resolve("mon-1", "/T/A/nothing/here/use", decl) is decl["T"]["A"]["mon-1"]


def _body(use: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(_decl(use))
    body.update(schemaVersion="3.56.0", id="origin")
    body["T"]["A"]["svc"] = {"class": "Service_TCP", "virtualAddresses": ["10.0.0.1"], "virtualPort": 80,
                             "pool": "pp"}
    body["T"]["A"]["pp"]["members"] = [{"servicePort": 80, "serverAddresses": ["10.1.0.1"]}]
    return body


@pytest.mark.parametrize(("use", "expected"), [
    ({"use": "m", "class": "Constants"}, None),
    ({"use": "mon-1", "class": "Constants"}, f"/T/A/pp/monitors/0/use: {INVALID}"),
    ({"use": "m"}, f"/T/A/pp/monitors/0/use: {INVALID}"),
    ({"use": "mon-1"}, None),
])
def test_as3s_verdict_on_whole_declarations(validator: As3Validator, use: dict[str, Any],
                                            expected: str | None) -> None:
    body = _body(use)
    assert validator.first_error(body) == expected
    for keep_filled in (True, False):  # the whole-ADC check and the tenant-at-a-time check
        check = validator.check_adc(body, keep_filled=keep_filled)
        assert [f"{e.pointer}: {e.message}" for e in check.pointer_errors] == ([expected] if expected else [])
