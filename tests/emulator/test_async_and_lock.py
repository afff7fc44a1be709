"""Async submit, task records, the auto-async threshold, and the global lock's 503."""

from __future__ import annotations

import threading
import time

import pytest

from emulator.helpers import DECLARE, Api, adc, http_tenant

TASK = "/mgmt/shared/appsvcs/task"
BUSY = {"code": 503, "message": "Error: Configuration operation in progress on device localhost, "
                                "please try again in 2 minutes", "host": "localhost", "tenant": ["T1"],
        "declarationId": "test-1"}


def _wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _lock_held(handle) -> bool:
    return handle.device.config_lock.locked()


def _sleeping(handle) -> bool:
    """A `slow` fault is being served: the worker sleeps on the manual clock (safe to advance now)."""
    return handle.clock.sleepers() == 1


@pytest.mark.bigip_emulator(manual_clock=True)
def test_async_submit_then_task_in_progress_then_results(api: Api) -> None:
    api.handle.control.faults([{"kind": "slow", "path": DECLARE, "seconds": 10}])
    status, submitted = api.call("POST", DECLARE + "?async=true", adc({"T1": http_tenant()}))
    assert status == 202
    task_id = submitted["id"]
    assert submitted == {"id": task_id, "results": [{"message": "Declaration successfully submitted", "tenant": "",
                                                     "host": "", "runTime": 0, "code": 0,
                                                     "declarationId": "test-1"}],
                         "declaration": {}, "selfLink": f"https://localhost/mgmt/shared/appsvcs/task/{task_id}"}
    _wait_until(lambda: _sleeping(api.handle))
    status, record = api.call("GET", f"{TASK}/{task_id}")
    assert status == 200
    assert record["results"] == [{"message": "in progress", "tenant": "", "host": "", "runTime": 0, "code": 0,
                                  "declarationId": "test-1"}]
    api.handle.clock.advance(10)
    _wait_until(lambda: api.call("GET", f"{TASK}/{task_id}")[1]["results"][0]["code"] != 0)
    status, record = api.call("GET", f"{TASK}/{task_id}")
    assert status == 200
    assert record["results"][0]["message"] == "success" and record["results"][0]["runTime"] == 10440
    assert record["declaration"]["T1"] == http_tenant()
    assert api.call("GET", f"{TASK}/nope") == (404, {"code": 404, "message": "No record found with ID of nope"})


@pytest.mark.bigip_emulator(manual_clock=True)
def test_sync_post_slower_than_threshold_turns_into_202(api: Api) -> None:
    api.handle.control.faults([{"kind": "slow", "seconds": 50}])
    answer: list = []
    worker = threading.Thread(target=lambda: answer.append(api.call("POST", DECLARE, adc({"T1": http_tenant()}))))
    worker.start()
    _wait_until(lambda: _sleeping(api.handle))
    api.handle.clock.advance(44.9)
    time.sleep(0.05)
    assert answer == []  # still waiting: under the 45 s threshold
    api.handle.clock.advance(0.2)
    worker.join(timeout=5)
    status, body = answer[0]
    assert status == 202
    assert body["results"][0]["message"] == "Declaration successfully submitted"
    api.handle.clock.advance(10)
    _wait_until(lambda: api.call("GET", f"{TASK}/{body['id']}")[1]["results"][0]["code"] == 200)


@pytest.mark.bigip_emulator(manual_clock=True)
def test_slow_fault_without_path_waits_for_the_declare_and_with_path_slows_that_request(api: Api) -> None:
    api.handle.control.faults([{"kind": "slow", "seconds": 3}, {"kind": "slow", "path": "/mgmt/tm/net", "seconds": 2}])
    assert api.call("GET", "/mgmt/shared/appsvcs/info")[0] == 200  # not slowed, fault kept
    answer: list = []
    worker = threading.Thread(target=lambda: answer.append(api.call("GET", "/mgmt/tm/net/arp")))
    worker.start()
    _wait_until(lambda: _sleeping(api.handle))
    assert answer == []
    api.handle.clock.advance(2)
    worker.join(timeout=5)
    assert answer[0][0] == 200
    assert api.handle.control.pending_faults() == [{"kind": "slow", "seconds": 3, "times": 1}]
    assert [e.get("faults") for e in api.handle.control.log()] == [None, ["slow"]]


@pytest.mark.bigip_emulator(manual_clock=True, async_threshold=5)
def test_the_auto_async_threshold_is_configurable(api: Api) -> None:
    api.handle.control.faults([{"kind": "slow", "seconds": 6}])
    answer: list = []
    worker = threading.Thread(target=lambda: answer.append(api.call("POST", DECLARE, adc({"T1": http_tenant()}))))
    worker.start()
    _wait_until(lambda: _sleeping(api.handle))
    api.handle.clock.advance(5)
    worker.join(timeout=5)
    assert answer[0][0] == 202


def test_async_validation_error_lands_in_the_task_record(api: Api) -> None:
    status, submitted = api.call("POST", DECLARE + "?async=true", {"class": "AS3", "action": "deploy"})
    assert status == 202
    _wait_until(lambda: api.call("GET", f"{TASK}/{submitted['id']}")[1]["results"][0]["code"] != 0)
    _, record = api.call("GET", f"{TASK}/{submitted['id']}")
    assert record["results"] == [{"code": 400, "message": 'for action "deploy", a declaration is required.'}]


def test_task_list_keeps_at_most_25_finished_records(api: Api) -> None:
    for _ in range(27):
        api.call("POST", DECLARE, adc({"T1": http_tenant()}))
    _, listing = api.call("GET", TASK)
    assert len(listing["items"]) == 25
    assert [item["results"][0]["message"] for item in listing["items"]] == ["no change"] * 25  # oldest went first


def test_two_clients_posting_at_once_get_exactly_one_503(bigip_emulator) -> None:
    bigip_emulator.control.faults([{"kind": "slow", "seconds": 0.5}])
    apis = [Api(bigip_emulator), Api(bigip_emulator)]
    bodies = [adc({"T1": http_tenant(members=("192.0.1.1",))}), adc({"T1": http_tenant(members=("192.0.1.2",))})]
    barrier = threading.Barrier(2)
    answers: dict[int, tuple] = {}

    def post(i: int) -> None:
        barrier.wait()
        answers[i] = apis[i].call("POST", DECLARE, bodies[i])

    threads = [threading.Thread(target=post, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    statuses = sorted(a[0] for a in answers.values())
    assert statuses == [200, 503]
    winner = next(i for i, a in answers.items() if a[0] == 200)
    loser = next(i for i, a in answers.items() if a[0] == 503)
    assert answers[loser][1] == BUSY
    state = bigip_emulator.control.state()
    assert state["as3"]["tenants"]["T1"] == bodies[winner]["T1"]
    assert state["as3"]["declaration"]["T1"] == bodies[winner]["T1"]
    assert len(state["as3"]["history"]) == 1 and state["saveCount"] == 1
    assert sorted(e["status"] for e in state["requestLog"]) == [200, 503]


def test_busy_fault_answers_503_the_given_number_of_times(api: Api) -> None:
    api.handle.control.faults([{"kind": "busy", "times": 2}])
    body = adc({"T1": http_tenant()})
    assert api.call("POST", DECLARE, body) == (503, BUSY)
    assert api.call("POST", DECLARE, body) == (503, BUSY)
    assert api.call("POST", DECLARE, body)[0] == 200
    assert [e.get("faults") for e in api.handle.control.log()] == [["busy"], ["busy"], None]


def test_busy_inside_an_async_request_shows_in_the_record(api: Api) -> None:
    api.handle.control.faults([{"kind": "busy"}])
    status, submitted = api.call("POST", DECLARE + "?async=true", adc({"T1": http_tenant()}))
    assert status == 202
    _wait_until(lambda: api.call("GET", f"{TASK}/{submitted['id']}")[1]["results"][0]["code"] != 0)
    assert api.call("GET", f"{TASK}/{submitted['id']}")[1]["results"] == [BUSY]


@pytest.mark.bigip_emulator(manual_clock=True)
def test_gets_are_not_blocked_by_the_lock(api: Api) -> None:
    api.call("POST", DECLARE, adc({"T1": http_tenant()}))
    api.handle.control.faults([{"kind": "slow", "seconds": 10}])
    status, _ = api.call("POST", DECLARE + "?async=true", adc({"T1": http_tenant(members=("192.0.1.5",))}))
    assert status == 202
    _wait_until(lambda: _sleeping(api.handle))
    assert api.call("GET", DECLARE)[1]["T1"] == http_tenant()
    assert api.call("POST", DECLARE, adc({"T2": http_tenant()}))[0] == 503
    api.handle.clock.advance(10)
    _wait_until(lambda: not _lock_held(api.handle))
    assert api.call("GET", DECLARE)[1]["T1"] == http_tenant(members=("192.0.1.5",))
