# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property: whatever the API answers, DmsClient returns well-formed tasks or raises a typed DmsError.

Answers are arbitrary JSON values, task lists that are almost right, and bodies that are not JSON at all, with
success and error statuses. They reach the client through a session that serves them in order, so no test opens
a socket or sleeps. Never acceptable: a KeyError, TypeError or AttributeError escaping, a body without a proper
task list read as "no tasks", or None from anything but a DMS "no such task".
"""

from __future__ import annotations

import io
import json
from collections import namedtuple
from unittest import mock

from hypothesis import given, settings, strategies as st
from requests import Response
from requests.structures import CaseInsensitiveDict

from ansible_collections.hwcloud.dms.plugins.module_utils import client as client_module
from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import DmsError, MalformedAnswerError, RetriesExhausted
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import HttpClient
from ansible_collections.hwcloud.dms.plugins.module_utils.options import connection_settings
from ansible_collections.hwcloud.dms.plugins.module_utils.signing import AkSkSigner
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import STATUSES, TASK_FIELDS
from ansible_collections.hwcloud.dms.tests.unit.fakes import FakeClock

INSTANCE = "11111111-2222-3333-4444-555555555555"
# Small pages, so that a handful of tasks already spans several pages.
SMALL_PAGE = 3
NOT_JSON = object()  # Answer.body of a body that is not JSON


class Answer(namedtuple("Answer", "status content body")):
    """One HTTP answer: its status, the bytes sent, and the JSON value they hold (NOT_JSON when they hold none)."""

    @classmethod
    def of_json(cls, status, value):
        return cls(status, json.dumps(value).encode("utf-8"), value)

    @classmethod
    def of_text(cls, status, text):
        return cls(status, text.encode("utf-8"), NOT_JSON)

    def response(self, url):
        response = Response()
        response.status_code = self.status
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json", "X-Request-Id": "req-property"})
        response.raw = io.BytesIO(self.content)
        response.encoding = "utf-8"
        response.url = url
        return response


EMPTY_PAGE = Answer.of_json(200, {"task_count": "0", "tasks": []})


class ScriptedSession:
    """Stands in for requests.Session: serves the answers in order, then empty pages (which end any paging)."""

    def __init__(self, answers):
        self.verify = True
        self.answers = list(answers)
        self.served = []

    def request(self, method, url, **_kwargs):
        answer = self.answers.pop(0) if self.answers else EMPTY_PAGE
        self.served.append(answer)
        return answer.response(url)


def make_client(session, max_retries=0, clock=None):
    """A client over the scripted session; without a clock of the test's, one that fails the test at any pause (no retry is
    allowed then)."""
    connection = connection_settings({"access_key": "AKPROPERTY000000000", "secret_key": "SKPROPERTY" + "0" * 30,
                                      "endpoint": "https://dms.example.test", "project_id": "0123456789abcdef0123456789abcdef",
                                      "request_timeout": 5.0, "max_retries": max_retries, "validate_certs": True})
    http = HttpClient(AkSkSigner(connection.access_key, connection.secret_key), max_retries=max_retries, session=session,
                      clock=clock or FakeClock(max_sleeps=0))
    return DmsClient(connection, http=http)


# ------------------------------------------------------------------------------------------------
# Strategies

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
JSON_VALUES = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
                           max_leaves=8)
TASK_IDS = st.sampled_from(["task-1", "task-2", "task-3", "task-4", "task-5", "task-6", "task-7", " task-8 ", "a/b c"])
TIMESTAMPS = st.sampled_from(["2024-01-31T08:00:00.000Z", "2024-01-31T09:30:00Z", "2023-12-31T23:59:59.999Z", "20240131080000",
                              "", "yesterday", "2024-13-45T99:99:99Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])


def mostly(valid, invalid=JSON_VALUES):
    """Valid values most of the time, anything now and then."""
    return st.one_of(valid, valid, valid, invalid)


# Tasks as documented (every field a string), and tasks whose fields are sometimes anything at all. The optional
# fields of a valid task may hold anything too: only id and status are required to be strings.
OPTIONAL_FIELDS = {"name": mostly(st.sampled_from(["kafkaConfigModify", "bindInstancePublicIp"])),
                   "user_name": mostly(st.text(max_size=8)), "user_id": mostly(st.text(max_size=8)),
                   "params": mostly(st.sampled_from(['{"a": 1}', "", "[1]", "{not json", '"text"'])),
                   "created_at": mostly(TIMESTAMPS), "updated_at": mostly(TIMESTAMPS)}
VALID_TASKS = st.fixed_dictionaries({"id": TASK_IDS, "status": st.sampled_from(STATUSES)}, optional=OPTIONAL_FIELDS)
NEAR_TASKS = st.fixed_dictionaries(
    {"id": mostly(TASK_IDS, JSON_VALUES | st.sampled_from(["", "  "])),
     "status": mostly(st.sampled_from(STATUSES), JSON_VALUES | st.sampled_from(["", " "]))},
    optional=OPTIONAL_FIELDS)
VALID_COUNTS = st.integers(0, 12).map(str)
TASK_COUNTS = mostly(st.integers(-2, 12).map(str), JSON_VALUES | st.integers(-2, 12) | st.sampled_from([" 3 ", "3.0", "", "1e2"]))
VALID_LISTS = st.fixed_dictionaries({"tasks": st.lists(VALID_TASKS, max_size=SMALL_PAGE + 1)}, optional={"task_count": VALID_COUNTS})
NEAR_LISTS = st.fixed_dictionaries({"tasks": mostly(st.lists(mostly(NEAR_TASKS), max_size=SMALL_PAGE + 2))},
                                   optional={"task_count": TASK_COUNTS})
SUCCESS = st.sampled_from([200, 200, 200, 200, 201, 204])
FAILURE = st.sampled_from([400, 401, 403, 404, 404, 409, 429, 500, 502, 503])
ERROR_CODES = st.sampled_from(["DMS.00404030", "DMS.00404022", "DMS.10240407", "DMS.00400070", "DMS.00400030", "DMS.00404001",
                               "DMS.10240406", "APIG.0101", "APIG.0301", "APIGW.0301", "APIG.0308", ""]) | st.text(max_size=12)
ERROR_BODIES = st.one_of(
    st.fixed_dictionaries({}, optional={"error_code": mostly(ERROR_CODES), "error_msg": JSON_VALUES}),
    st.fixed_dictionaries({"error": st.fixed_dictionaries({}, optional={"code": mostly(ERROR_CODES), "message": JSON_VALUES})}),
    st.fixed_dictionaries({"errors": st.lists(st.fixed_dictionaries({}, optional={"errorCode": mostly(ERROR_CODES), "errorMsg": JSON_VALUES}),
                                              max_size=2)}),
    JSON_VALUES,
)
NOT_JSON_TEXTS = st.text(max_size=30).map(lambda text: "<html>%s</html>" % text) | st.just("")
# A JSON object cut before its closing brace is never JSON.
TRUNCATED = NEAR_LISTS.map(lambda body: json.dumps(body)[:-1])

LIST_ANSWERS = st.one_of(
    st.builds(Answer.of_json, st.just(200), VALID_LISTS),
    st.builds(Answer.of_json, st.just(200), VALID_LISTS),
    st.builds(Answer.of_json, st.just(200), VALID_LISTS),
    st.builds(Answer.of_json, SUCCESS, NEAR_LISTS),
    st.builds(Answer.of_json, SUCCESS, JSON_VALUES),
    st.builds(Answer.of_text, SUCCESS, NOT_JSON_TEXTS | TRUNCATED),
    st.builds(Answer.of_json, FAILURE, ERROR_BODIES),
    st.builds(Answer.of_text, FAILURE, NOT_JSON_TEXTS),
)


# ------------------------------------------------------------------------------------------------
# What the API documents, independent of how the client checks it


def count_of(value):
    """The number a task_count holds (a string, or a number, holding a whole number), None when it holds none."""
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def documented_tasks(body):
    """The tasks of a list or show answer, or None when the body is not an envelope of well-formed tasks."""
    if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
        return None
    tasks = body["tasks"]
    for task in tasks:
        if not isinstance(task, dict):
            return None
        if not all(isinstance(task.get(field), str) and task[field].strip() for field in ("id", "status")):
            return None
    return tasks


def documented_page(answer):
    """The tasks of a list answer read as documented, or None when it is not a well-formed success."""
    if not 200 <= answer.status < 300:
        return None
    tasks = documented_tasks(answer.body)
    if tasks is None:
        return None
    if "task_count" in answer.body:
        count = count_of(answer.body["task_count"])
        if count is None or count < 0:
            return None
    return tasks


def says_dms_has_no_such_thing(answer):
    """Whether an answer is a 404 carrying a DMS error code: the only answer that may read as "no such task"."""
    if answer.status != 404 or not isinstance(answer.body, dict):
        return False
    places = [answer.body, answer.body.get("error")]
    errors = answer.body.get("errors")
    if isinstance(errors, list) and errors:
        places.append(errors[0])
    return any(isinstance(place, dict) and isinstance(place.get(key), str) and place[key].startswith("DMS.")
               for place in places for key in ("error_code", "errorCode", "code"))


def assert_well_formed(task):
    assert isinstance(task, dict)
    assert set(TASK_FIELDS) | {"params", "params_raw"} <= set(task)
    assert all(isinstance(task[field], str) for field in TASK_FIELDS + ("params_raw",))
    assert isinstance(task["params"], dict)
    assert task["id"].strip() and task["status"].strip()


def assert_typed_failure(error, last_answer):
    """The error is a DmsError; a success of the wrong shape is reported as such, never as anything else."""
    assert isinstance(error, DmsError), "%s escaped: %r" % (type(error).__name__, error)
    if 200 <= last_answer.status < 300:
        assert isinstance(error, RetriesExhausted) and isinstance(error.last_error, MalformedAnswerError), repr(error)


# ------------------------------------------------------------------------------------------------
# Properties


@settings(max_examples=200, deadline=None)
@given(answers=st.lists(LIST_ANSWERS, min_size=1, max_size=5))
def test_list_tasks_returns_well_formed_tasks_or_raises_a_dms_error(answers):
    session = ScriptedSession(answers)
    with mock.patch.object(client_module, "PAGE_SIZE", SMALL_PAGE):
        listing = make_client(session).list_tasks(INSTANCE)
        try:
            tasks = list(listing)
        except Exception as error:  # pylint: disable=broad-exception-caught
            # No retries: the last answer served is the one that failed, and it is not a well-formed page.
            assert_typed_failure(error, session.served[-1])
            assert documented_page(session.served[-1]) is None
            return
    pages = [documented_page(answer) for answer in session.served]
    assert all(page is not None for page in pages), "a malformed answer was read as tasks: %r" % session.served
    for task in tasks:
        assert_well_formed(task)
    ids = [task["id"] for task in tasks]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(raw["id"] for page in pages for raw in page)
    assert listing.held == len(ids)
    assert listing.complete is (listing.counted is None or listing.held >= listing.counted)


@settings(max_examples=100, deadline=None)
@given(answers=st.lists(LIST_ANSWERS, min_size=1, max_size=8))
def test_list_tasks_with_retries_returns_well_formed_tasks_or_raises_a_dms_error(answers):
    clock = FakeClock()
    session = ScriptedSession(answers)
    with mock.patch.object(client_module, "PAGE_SIZE", SMALL_PAGE):
        try:
            tasks = list(make_client(session, max_retries=2, clock=clock).list_tasks(INSTANCE))
        except Exception as error:  # pylint: disable=broad-exception-caught
            assert_typed_failure(error, session.served[-1])
            return
    for task in tasks:
        assert_well_formed(task)
    assert len(clock.sleeps) <= len(session.served)


def show_answers(task_id):
    """Answers to "show one": the envelope with the task asked for (or another, or several), and everything else."""
    valid_show = st.fixed_dictionaries({"tasks": st.lists(VALID_TASKS.map(lambda task: dict(task, id=task_id)), min_size=1, max_size=1)},
                                       optional={"task_count": VALID_COUNTS})
    asked = NEAR_TASKS.map(lambda task: dict(task, id=task_id))
    near_show = st.fixed_dictionaries({"tasks": st.one_of(st.lists(asked, min_size=1, max_size=1), st.lists(asked | NEAR_TASKS, max_size=3))},
                                      optional={"task_count": TASK_COUNTS})
    no_such_task = st.fixed_dictionaries({"error_code": st.sampled_from(["DMS.00404030", "DMS.00404999"]) | ERROR_CODES,
                                          "error_msg": st.text(max_size=12)})
    return st.one_of(
        st.builds(Answer.of_json, st.just(200), valid_show),
        st.builds(Answer.of_json, st.just(200), valid_show),
        st.builds(Answer.of_json, st.just(404), no_such_task),
        st.builds(Answer.of_json, SUCCESS, near_show),
        st.builds(Answer.of_json, SUCCESS, NEAR_LISTS | JSON_VALUES),
        st.builds(Answer.of_text, SUCCESS, NOT_JSON_TEXTS | TRUNCATED),
        st.builds(Answer.of_json, FAILURE, ERROR_BODIES),
        st.builds(Answer.of_text, FAILURE, NOT_JSON_TEXTS),
    )


SHOWN_TASK_IDS = TASK_IDS | st.text(min_size=1, max_size=12).filter(lambda text: text not in (".", ".."))


@settings(max_examples=200, deadline=None)
@given(data=st.data(), task_id=SHOWN_TASK_IDS)
def test_get_task_returns_the_task_asked_for_none_only_when_dms_says_so_or_raises_a_dms_error(data, task_id):
    answer = data.draw(show_answers(task_id), label="answer")
    session = ScriptedSession([answer])
    try:
        task = make_client(session).get_task(INSTANCE, task_id)
    except Exception as error:  # pylint: disable=broad-exception-caught
        assert_typed_failure(error, answer)
        return
    assert len(session.served) == 1
    if task is None:
        assert says_dms_has_no_such_thing(answer), "None from %r" % (answer,)
        return
    assert 200 <= answer.status < 300
    shown = documented_tasks(answer.body)
    assert shown is not None and [raw["id"] for raw in shown] == [task_id]
    assert_well_formed(task)
    assert task["id"] == task_id
    assert task["status"] == shown[0]["status"]
