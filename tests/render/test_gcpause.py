"""paused_gc: the stages pause the cyclic GC and give back exactly the state they found."""

from __future__ import annotations

import gc

import pytest

from renderer.gcpause import paused_gc


@pytest.fixture(autouse=True)
def _restore_gc():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_inside_restored_after_even_on_error() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_nested_pauses_restore_only_at_the_outermost() -> None:
    gc.enable()
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block found it off and leaves it off
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_restoring_it_leaves_the_paused_objects_to_full_collections_only() -> None:
    """The young generations are empty after the pause (no collection walks what the pause made
    as soon as anything is allocated), and a cycle dropped during the pause is still collected."""
    import weakref

    class Node:
        pass

    gc.enable()
    with paused_gc():
        kept = [[] for _ in range(1000)]
        cycle = Node()
        cycle.self = cycle
        dead = weakref.ref(cycle)
        del cycle
    assert gc.get_count()[0] < 50
    assert any(o is kept for o in gc.get_objects(generation=2))
    assert not any(o is kept for o in gc.get_objects(generation=0))
    assert dead() is not None  # garbage, not yet collected...
    gc.collect()
    assert dead() is None  # ...and not leaked


def test_render_command_keeps_it_paused_while_the_schema_loads_and_the_output_is_written(
        make_repo, as3_schema_path, monkeypatch, tmp_path) -> None:
    """With the rendered declarations alive, a collection during the validator's schema load (or
    the output's dump) walks them all: at 10k Ingresses that was 0.4 s of a 4 s re-render."""
    from pathlib import Path

    import renderer.source
    import renderer.validate.as3 as as3
    from renderer.cli import main

    seen: dict[str, bool] = {}
    from_bytes, dump_json = as3.As3Validator.from_bytes.__func__, renderer.source.dump_json

    def spy_load(cls, *args, **kwargs):
        seen["schema load"] = gc.isenabled()
        return from_bytes(cls, *args, **kwargs)

    def spy_dump(data):
        seen["dump"] = gc.isenabled()
        return dump_json(data)

    monkeypatch.setattr(as3.As3Validator, "from_bytes", classmethod(spy_load))
    monkeypatch.setattr(renderer.source, "dump_json", spy_dump)
    repo = make_repo(Path(__file__).parents[2] / "examples" / "hello-world")
    gc.enable()
    assert main(["render", str(repo.path), "-o", str(tmp_path / "out"), "--as3-schema", str(as3_schema_path),
                 "--no-cache"]) == 0
    assert seen == {"schema load": False, "dump": False}
    assert gc.isenabled()  # and given back
