"""DiskCache writes an entry as header + payload without joining them: the bytes on disk must stay
exactly `_encode`'s (entries written before still read), and the checksum still covers the payload."""

from __future__ import annotations

import marshal
from pathlib import Path

from renderer import cache as cache_mod
from renderer.cache import DiskCache


def test_an_entry_on_disk_is_exactly_the_joined_encoding(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path)
    value = {"as3": {"t": [1, 2, (3, "x" * 1000)]}, "b": b"\x00\x01"}
    assert disk.put("k\0one", value)
    assert disk._file("k\0one").read_bytes() == cache_mod._encode("k\0one", value)
    assert disk.get("k\0one") == value


def test_a_flipped_payload_byte_is_a_miss(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path)
    assert disk.put("key", {"a": "b" * 100})
    file = disk._file("key")
    blob = bytearray(file.read_bytes())
    blob[-10] ^= 0x01
    file.write_bytes(bytes(blob))
    assert disk.get("key") is None


def test_refuse_sees_the_marshalled_value(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path)
    seen: list[bytes] = []
    value = {"x": "passphrase"}
    assert not disk.put("key", value, refuse=lambda data: seen.append(bytes(data)) or b"passphrase" in data)
    assert seen == [marshal.dumps(value, 4)]
    assert not disk._file("key").exists()
