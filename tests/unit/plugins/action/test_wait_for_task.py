# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin's own parts: its options against its documentation, and the progress lines it prints."""

from __future__ import annotations

import yaml

from ansible_collections.hwcloud.dms.plugins.action import wait_for_task as action
from ansible_collections.hwcloud.dms.plugins.doc_fragments.common import ModuleDocFragment
from ansible_collections.hwcloud.dms.plugins.modules import wait_for_task as stub


class RecordingDisplay:
    def __init__(self):
        self.lines = []

    def display(self, text):
        self.lines.append((0, text))

    def v(self, text):  # pylint: disable=invalid-name  # Display's own method name
        self.lines.append((1, text))


def test_documented_options_are_exactly_the_validated_ones():
    """validate-modules cannot compare a doc stub with an action plugin's spec: this test does."""
    documented = yaml.safe_load(stub.DOCUMENTATION)["options"]
    documented.update(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    assert set(documented) == set(action.ARGUMENT_SPEC)
    for name, spec in action.ARGUMENT_SPEC.items():
        doc = documented[name]
        assert doc["type"] == spec["type"], name
        assert doc.get("default") == spec.get("default"), name
        assert doc.get("choices") == spec.get("choices"), name
        assert doc.get("elements") == spec.get("elements"), name
        assert bool(doc.get("required")) == bool(spec.get("required")), name


def listener(monkeypatch):
    recording = RecordingDisplay()
    monkeypatch.setattr(action, "display", recording)
    return action.DisplayListener("wait_for_task [web1]"), recording


def task(status, name="kafkaConfigModify", task_id="t1"):
    return {"id": task_id, "name": name, "status": status}


def test_status_change_line_with_progress(monkeypatch):
    progress_listener, recording = listener(monkeypatch)
    progress_listener.status_changed(task("EXECUTING"), "CREATED", 3.04, {"progress_percentage": 45, "remain_time": 120})
    assert recording.lines == [(0, "wait_for_task [web1]: kafkaConfigModify (ID t1) CREATED -> EXECUTING 45%, about 120 s left [3.0 s]")]


def test_first_sighting_line_without_progress(monkeypatch):
    progress_listener, recording = listener(monkeypatch)
    progress_listener.status_changed(task("CREATED"), None, 0.0, None)
    assert recording.lines == [(0, "wait_for_task [web1]: kafkaConfigModify (ID t1) CREATED [0.0 s]")]


def test_heartbeat_names_only_unfinished_tasks(monkeypatch):
    progress_listener, recording = listener(monkeypatch)
    tasks = [task("EXECUTING", task_id="a"), task("SUCCESS", task_id="b")]
    progress_listener.still_waiting(tasks, 61.0, {"a": {"progress_percentage": 80}})
    assert recording.lines == [(0, "wait_for_task [web1]: still waiting: kafkaConfigModify (ID a) EXECUTING 80% [61.0 s]")]


def test_failed_poll_is_shown_and_polls_only_at_v(monkeypatch):
    progress_listener, recording = listener(monkeypatch)
    progress_listener.poll_failed("HTTP 503", 5.0)
    progress_listener.polled([task("EXECUTING")], 5.5, 4)
    assert recording.lines == [
        (0, "wait_for_task [web1]: poll failed, will try again: HTTP 503 [5.0 s]"),
        (1, "wait_for_task [web1]: polled 1 task(s), 4 API call(s) so far [5.5 s]"),
    ]
