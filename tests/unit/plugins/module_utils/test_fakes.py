# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test doubles (tests/unit/fakes.py) held to what they stand in for, so that they cannot drift from it: FakeDms offers
every call of the client's TaskApi Protocol with the signature DmsClient has, and its listings keep TaskListing's
promises; FakeClock has the calls of clock.Clock. And the environment helper of tests/environment.py leaves out every
variable a connection option reads."""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient, Listing, TaskApi, TaskListing
from ansible_collections.hwcloud.dms.plugins.module_utils.clock import Clock
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import IncompleteListingError, InstanceNotFoundError
from ansible_collections.hwcloud.dms.plugins.module_utils.options import COMMON_OPTIONS
from ansible_collections.hwcloud.dms.tests.environment import without_credentials
from ansible_collections.hwcloud.dms.tests.unit.fakes import INSTANCE, FakeClock, FakeDms, FakeTask, old_tasks


def calls_of(protocol):
    """The calls a Protocol's own body declares (not those typing.Protocol adds)."""
    return sorted(name for name, value in vars(protocol).items()
                  if inspect.isfunction(value) and value.__qualname__.startswith(protocol.__qualname__ + "."))


def parameters(function):
    """What a caller relies on: each parameter's name, kind and default (without ``self``)."""
    return [(parameter.name, parameter.kind, parameter.default) for parameter in inspect.signature(function).parameters.values()
            if parameter.name != "self"]


def test_the_protocols_name_the_calls_the_code_makes():
    assert calls_of(TaskApi) == ["delete_task", "get_instance", "get_task", "get_task_progress", "list_tasks", "tasks_created_since"]
    assert calls_of(Listing) == ["__iter__", "require_complete"]
    assert set(TaskApi.__annotations__) == {"calls"} and set(Listing.__annotations__) == {"held", "counted", "complete"}


@pytest.mark.parametrize("implementation", [DmsClient, FakeDms])
@pytest.mark.parametrize("name", calls_of(TaskApi))
def test_the_client_and_its_fake_offer_each_call_of_the_task_api_with_its_signature(implementation, name):
    assert parameters(getattr(implementation, name)) == parameters(getattr(TaskApi, name))


def test_every_call_the_fake_shares_with_the_client_has_the_clients_signature():
    shared = [name for name, value in vars(FakeDms).items()
              if inspect.isfunction(value) and not name.startswith("_") and hasattr(DmsClient, name)]
    assert set(calls_of(TaskApi)) <= set(shared)
    for name in shared:
        assert parameters(getattr(FakeDms, name)) == parameters(getattr(DmsClient, name)), name


def test_calls_counts_every_request_of_the_fake_as_of_the_client():
    assert isinstance(inspect.getattr_static(DmsClient, "calls"), property)  # the requests its HttpClient sent
    dms = FakeDms(tasks=old_tasks(150))
    assert dms.calls == 0
    dms.get_task(INSTANCE, "old-0001")
    assert len(list(dms.list_tasks(INSTANCE))) == 150
    assert list(dms.tasks_created_since(INSTANCE, dms.clock.wall())) == []
    dms.get_instance(INSTANCE)
    assert dms.calls == 5 and dms.kinds() == ["get", "list", "list", "since", "instance"]


@pytest.mark.parametrize("name", calls_of(Listing))
def test_the_listings_of_the_client_and_of_the_fake_are_task_listings(name):
    listing = FakeDms().list_tasks(INSTANCE)
    assert isinstance(listing, TaskListing)
    assert parameters(getattr(TaskListing, name)) == parameters(getattr(Listing, name))
    assert all(hasattr(listing, attribute) for attribute in Listing.__annotations__)


def test_a_listing_read_to_its_end_holds_what_it_counted():
    dms = FakeDms(tasks=old_tasks(250))
    listing = dms.list_tasks(INSTANCE)
    assert [task["id"] for task in listing] == ["old-%04d" % n for n in reversed(range(250))]  # newest first
    assert (listing.held, listing.counted, listing.complete) == (250, 250, True)
    listing.require_complete()
    assert dms.kinds() == ["list"] * 3


def test_a_listing_stopped_early_proves_nothing():
    listing = FakeDms(tasks=old_tasks(250)).list_tasks(INSTANCE)
    next(iter(listing))
    assert listing.complete is None


@pytest.mark.parametrize("cut", ["truncate_after", "task_count"])
def test_a_listing_that_ends_short_of_its_count_says_so(cut):
    dms = FakeDms(tasks=old_tasks(250))
    if cut == "truncate_after":
        dms.truncate_after = 2
    else:
        dms.task_count = 251
    listing = dms.list_tasks(INSTANCE)
    assert len(list(listing)) == (200 if cut == "truncate_after" else 250)
    assert listing.complete is False and listing.counted in (250, 251)
    with pytest.raises(IncompleteListingError):
        listing.require_complete()


def test_tasks_created_since_a_moment_are_those_of_its_second_and_after_and_need_a_complete_listing():
    clock = FakeClock()
    tasks = [FakeTask("before", "x", [(-1.2, "SUCCESS")]), FakeTask("same-second", "x", [(-0.6, "SUCCESS")]),
             FakeTask("after", "x", [(0.5, "EXECUTING")])]
    dms = FakeDms(clock, tasks)
    clock.advance(1)
    assert [task["id"] for task in dms.tasks_created_since(INSTANCE, clock.wall_at(-0.5))] == ["after", "same-second"]
    dms.task_count = 4
    with pytest.raises(IncompleteListingError):
        list(dms.tasks_created_since(INSTANCE, clock.wall_at(-10)))


def test_a_task_reads_as_the_client_returns_it():
    clock = FakeClock()
    dms = FakeDms(clock, [FakeTask("t1", "resize", [(-60, "EXECUTING"), (-5, "SUCCESS")], params={"size": 2})])
    assert dms.get_task(INSTANCE, "t1") == {
        "id": "t1", "name": "resize", "status": "SUCCESS", "user_name": "dms_test", "user_id": "u-1",
        "created_at": "2024-05-01T11:59:00.000Z", "updated_at": "2024-05-01T11:59:55.000Z", "params": {"size": 2},
        "params_raw": '{"size": 2}'}
    assert dms.get_task(INSTANCE, "t2") is None


def test_an_instance_the_fake_does_not_hold_does_not_exist():
    with pytest.raises(InstanceNotFoundError):
        FakeDms().get_task("another-instance", "t1")


@pytest.mark.parametrize("name", sorted(name for name, value in vars(Clock).items() if inspect.isfunction(value)))
def test_the_fake_clock_has_each_call_of_the_clock(name):
    assert parameters(getattr(FakeClock(), name)) == parameters(getattr(Clock(), name))


def test_the_fake_clock_moves_only_when_told():
    clock = FakeClock()
    clock.sleep(2.5)
    clock.advance(1)
    clock.skew = timedelta(minutes=5)
    assert (clock.t, clock.monotonic(), clock.sleeps) == (3.5, 1003.5, [2.5])
    assert clock.wall() == clock.wall_at(3.5) + timedelta(minutes=5)


def test_without_credentials_leaves_out_every_variable_of_the_connection_options():
    names = [name for entry in COMMON_OPTIONS.values() for name in entry.get("env", [])]
    assert names and without_credentials(dict((name, "x") for name in names)) == {}
    assert without_credentials({"PATH": "/bin", "HWX": "kept"}) == {"PATH": "/bin", "HWX": "kept"}
