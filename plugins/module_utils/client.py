# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DMS background-task API: endpoints, project lookup, paging, the four task calls and the instance read.

No Ansible imports. Returns tasks already normalised (see tasks.py); raises the typed errors of errors.py.
Every answer is checked before it is believed: a body without the list it should carry is an error to retry,
never an empty result.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from itertools import islice
from typing import Protocol

from ansible_collections.hwcloud.dms.plugins.module_utils.api_path import path_segment
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    NETWORK_ACCESS, ConfigurationError, EndpointNotFoundError, IncompleteListingError, MalformedIdError, NotFoundError, RetriesExhausted,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import HttpClient, url_origin
from ansible_collections.hwcloud.dms.plugins.module_utils.signing import AkSkSigner, TokenAuth, canonical_query
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import created_before, newest_first, normalize_task, to_api_time

PAGE_SIZE = 100  # the API's maximum
# A full page of tasks already seen happens when a page's worth of tasks was created between two calls;
# several in a row mean the server ignores ``start``, and paging on would never end.
MAX_PAGES_WITHOUT_NEW_TASKS = 2
# Pages in flight at once when a whole listing is read: most of a page's time is the round trip, and a few at a
# time cut a long history's read to about a quarter without spending a noticeable share of the throttling budget.
PAGES_IN_FLIGHT = 4
# The API does not document the time zone or the inclusivity of begin_time/end_time: the window sent is
# this much wider on each side, and the exact filter is applied to what comes back.
SERVER_WINDOW_MARGIN = timedelta(days=1)
# Progress only decorates the output: one quick attempt, never a retry that would delay noticing the end.
PROGRESS_TIMEOUT = 5.0
# What differs between the engines in the task API, by the engine an instance's answer names (RocketMQ's older name
# is reliability): whether it has the progress call. The shared paths are the same for all.
ENGINES = {
    "kafka": {"progress": True},
    "rocketmq": {"progress": True},
    "reliability": {"progress": True},
    "rabbitmq": {"progress": False},
}


def engine_has_progress(engine):
    """Whether the task API of this engine has a progress call; an engine not in ENGINES is asked, as before it was known."""
    return ENGINES.get(engine, {"progress": True})["progress"]


class Listing(Protocol):
    """What list_tasks returns (TaskListing): the tasks newest first, each once; once read to its end, ``held`` tasks read
    of the ``counted`` the API counted, and ``complete`` whether that is all of them (None when not read to the end)."""

    held: int
    counted: object
    complete: object

    def __iter__(self):
        ...

    def require_complete(self):
        ...


class TaskApi(Protocol):
    """The calls of DmsClient that waits, selections, deletions and the event source make, and the count of requests they
    sent: what any stand-in for the client (a test's fake) must offer, with these signatures."""

    calls: int

    def list_tasks(self, instance_id, begin_time=None, end_time=None, deadline=None, read_all=False):
        ...

    def tasks_created_since(self, instance_id, moment, deadline=None):
        ...

    def get_task(self, instance_id, task_id, deadline=None):
        ...

    def delete_task(self, instance_id, task_id, deadline=None):
        ...

    def get_task_progress(self, instance_id, task_id, deadline=None):
        ...

    def get_instance(self, instance_id, deadline=None):
        ...


def make_auth(settings):
    if settings.auth_token:
        return TokenAuth(settings.auth_token)
    return AkSkSigner(settings.access_key, settings.secret_key, settings.security_token)


class TaskListing:
    """The tasks of one listing, newest first, each once, fetched page by page as they are consumed.

    Once iterated to its end, ``held`` is the number of distinct tasks read and ``counted`` the ``task_count`` of the
    first page: the tasks that existed when the listing began. ``complete`` says whether paging read every one of
    them. Tasks created while paging are not part of the listing (they push older ones down a page, and paging on
    reads those); a task deleted while paging pulls a later one onto a page already read, so the listing ends one
    short and says it is incomplete. An iteration the caller stops early proves nothing either way and leaves
    ``complete`` None.

    With ``read_all`` the caller promises to read every task: once a page has given ``task_count``, the pages up
    to it are fetched up to PAGES_IN_FLIGHT at a time, each with the client's retries and deadline, and handed out
    in order, so that the result and its accounting are those of reading one page after another.
    """

    def __init__(self, fetch_page, read_all=False):
        self._fetch_page = fetch_page
        self._read_all = read_all
        self.held = 0
        self.counted = None
        self.complete = None
        self._most_counted = None  # the highest task_count of any page: more than ``counted`` when tasks were created

    def __iter__(self):
        tasks = self._each_task(self._pages_a_few_at_a_time() if self._read_all else self._pages_one_after_another())
        try:
            first_page = list(islice(tasks, PAGE_SIZE))
            # The API is believed to list newest first, but does not say so: should the first page come in another
            # order, every page is read and the tasks are sorted, so callers can always rely on the order.
            if newest_first(first_page) != first_page:
                yield from newest_first(first_page + list(tasks))
                return
            yield from first_page
            yield from tasks
        finally:
            tasks.close()  # a caller that stops early stops the paging (and its threads) now

    def require_complete(self):
        """Raise IncompleteListingError when paging ended short of what the API counted."""
        if self.complete is False:
            raise IncompleteListingError(self.held, self.counted)

    def _each_task(self, pages):
        """The tasks in the API's order, each once.

        Pages by ``start`` (1-based). Tasks created while paging push older ones down a page, so tasks are
        de-duplicated by id. Paging stops on a short page, once it holds as many tasks as any page counted (tasks
        created meanwhile are counted but not read: more than a page of them would otherwise end it before the
        oldest tasks), or after MAX_PAGES_WITHOUT_NEW_TASKS pages in a row that add nothing, so that a misbehaving
        server cannot make it loop.
        """
        seen = set()
        pages_without_new = 0
        try:
            for body in pages:
                page = body["tasks"]
                added = 0
                for raw in page:
                    task = normalize_task(raw)
                    if task["id"] not in seen:
                        seen.add(task["id"])
                        added += 1
                        yield task
                self.held = len(seen)
                latest_count = task_count(body)
                if latest_count is not None:
                    if self.counted is None:
                        self.counted = latest_count
                    self._most_counted = max(self._most_counted or 0, latest_count)
                pages_without_new = 0 if added else pages_without_new + 1
                if self.counted is not None and self.held >= self._most_counted:
                    self.complete = True
                    return
                if len(page) < PAGE_SIZE or pages_without_new >= MAX_PAGES_WITHOUT_NEW_TASKS:
                    self.complete = self.counted is None or self.held >= self.counted
                    return
        finally:
            pages.close()  # stops the fetching threads, if any, before the listing ends or fails

    def _pages_one_after_another(self):
        """The answers for start = 1, 1 + PAGE_SIZE, ..., one at a time, for as long as the caller asks."""
        start = 1
        while True:
            yield self._fetch_page(start)
            start += PAGE_SIZE

    def _pages_a_few_at_a_time(self):
        """The same answers in the same order, those after the first fetched up to PAGES_IN_FLIGHT at a time.

        Pages in flight together may be served in any order. When a page counts fewer tasks than the page before it,
        it was served first and the tasks created in between pushed tasks across the boundary of the two, where
        neither shows them: such a page is fetched again, now served after the one before it, as reading one page
        after another would have it. (A task deleted in between lowers the count too: that refetch changes nothing,
        and the listing ends short as it would have.)
        """
        first = self._fetch_page(1)
        yield first
        previous_count = task_count(first)
        start = 1 + PAGE_SIZE
        with ThreadPoolExecutor(max_workers=PAGES_IN_FLIGHT) as pool:
            in_flight = deque()
            try:
                while True:
                    # The page asked for next is always fetched; pages after it only while task_count says they hold tasks.
                    while not in_flight or (len(in_flight) < PAGES_IN_FLIGHT and self.counted is not None and start <= self.counted):
                        in_flight.append((start, pool.submit(self._fetch_page, start)))
                        start += PAGE_SIZE
                    page_start, page = in_flight.popleft()
                    body = page.result()
                    count = task_count(body)
                    if count is not None and previous_count is not None and count < previous_count:
                        body = self._fetch_page(page_start)
                        count = task_count(body)
                    previous_count = count
                    yield body
            finally:
                for _start, page in in_flight:
                    page.cancel()  # leaving the pool waits for the pages already being fetched


def task_count(body):
    """The page's task_count as a number, or None when it has none (the answer check refuses any other value)."""
    return int(str(body["task_count"])) if "task_count" in body else None


class DmsClient:
    """One client per plugin run: one HTTP session, the project ID looked up at most once.

    ``on_retry`` goes to the HttpClient it builds (see HttpClient; an ``http`` given is used as it is); None is silent.
    """

    def __init__(self, settings, http=None, on_retry=None):
        self._settings = settings
        self._project_id = settings.project_id
        self.http = http or HttpClient(
            make_auth(settings), request_timeout=settings.request_timeout, max_retries=settings.max_retries,
            validate_certs=settings.validate_certs, ca_path=settings.ca_path, on_retry=on_retry,
        )

    @property
    def calls(self):
        """HTTP requests sent so far, retries included."""
        return self.http.calls

    def project_id(self, deadline=None):
        if not self._project_id:
            self._project_id = self._lookup_project_id(deadline)
        return self._project_id

    def list_tasks(self, instance_id, begin_time=None, end_time=None, deadline=None, read_all=False):
        """A TaskListing of the instance's tasks, newest first; pages are fetched only as tasks are consumed.

        ``begin_time`` and ``end_time`` narrow what the API sends, but only roughly (see SERVER_WINDOW_MARGIN):
        callers filter exactly on their side. ``read_all``: the caller reads every task, so the pages are fetched
        a few at a time (see TaskListing).
        """
        query = []
        if begin_time is not None:
            query.append(("begin_time", to_api_time(_shifted(begin_time, -SERVER_WINDOW_MARGIN))))
        if end_time is not None:
            query.append(("end_time", to_api_time(_shifted(end_time, SERVER_WINDOW_MARGIN))))

        def fetch_page(start):
            page_query = query + [("start", str(start)), ("limit", str(PAGE_SIZE))]
            return self._dms("GET", instance_id, "/tasks", page_query, deadline, expect=_task_list_answer)

        return TaskListing(fetch_page, read_all)

    def tasks_created_since(self, instance_id, moment, deadline=None):
        """The tasks created at or after ``moment`` (to the second), newest first: usually one page, whatever the history."""
        listing = self.list_tasks(instance_id, begin_time=moment, deadline=deadline)
        for task in listing:
            if created_before(task, moment):
                return  # newest first: nothing older can be newer than the moment
            yield task
        listing.require_complete()

    def get_task(self, instance_id, task_id, deadline=None):
        """The task, or None when DMS says the instance has no such task.

        Only a DMS answer about the task counts as "no such task": a gateway's or a proxy's 404, flow control and
        malformed answers are errors (typed, see errors.classify_api_error), never None.
        """
        try:
            body = self._dms("GET", instance_id, "/tasks/" + path_segment(task_id), [], deadline, task_id=task_id,
                             expect=_single_task_answer(task_id))
        except NotFoundError:
            return None
        return normalize_task(body["tasks"][0])

    def delete_task(self, instance_id, task_id, deadline=None):
        """Delete the task; False when DMS says it has no such task (already gone, maybe by an earlier try of ours).

        A delete is sent again only after a failure that never reached the service (see HttpClient.request).
        """
        try:
            self._dms("DELETE", instance_id, "/tasks/" + path_segment(task_id), [], deadline, task_id=task_id, write=True)
        except NotFoundError:
            return False
        return True

    def get_task_progress(self, instance_id, task_id, deadline=None):
        """The task's progress dict, or None when this task or engine (RabbitMQ) has none.

        One attempt with a short timeout: progress only decorates the output.
        """
        try:
            return self._dms("GET", instance_id, "/tasks/%s/progress" % path_segment(task_id), [], deadline, task_id=task_id,
                             expect=_progress_answer, retries=0, timeout=min(PROGRESS_TIMEOUT, self._settings.request_timeout))
        except (NotFoundError, EndpointNotFoundError):
            return None

    def get_instance(self, instance_id, deadline=None):
        """The instance (ShowInstance's answer as it came): an answer without a ``status`` is an error, never "running"."""
        return self._dms("GET", instance_id, "", [], deadline, expect=_instance_answer)

    def call(self, method, path, query=(), body=None, write=False, accepted=None):
        """The HttpAnswer of any call below the endpoint (``path`` an api_path.ApiPath, ``query`` pairs), whatever its status.

        See HttpClient.call for ``accepted`` and what raises; ``write`` as for HttpClient.request.
        """
        return self.http.call(method, self.call_url(path), query, {"X-Project-Id": self.project_id()}, body, write=write, accepted=accepted)

    def call_url(self, path, query=()):
        """The URL of a call below the endpoint, the project ID (looked up once if need be) in place of {project_id}."""
        return self._settings.endpoint + path.expand(self.project_id()) + ("?" + canonical_query(query) if query else "")

    def _dms(self, method, instance_id, suffix, query, deadline, task_id=None, **request_options):
        project_id = self.project_id(deadline)
        url = "%s/v2/%s/instances/%s%s" % (self._settings.endpoint, path_segment(project_id), path_segment(instance_id), suffix)
        try:
            return self.http.request(method, url, query, {"X-Project-Id": project_id}, deadline, **request_options)
        except MalformedIdError as error:
            raise error.about(task_id if error.option == "task_id" else instance_id) from None

    def _lookup_project_id(self, deadline):
        region = self._settings.region
        iam_endpoint = self._settings.iam_endpoint
        try:
            body = self.http.request("GET", iam_endpoint + "/v3/projects", [("name", region)], None, deadline, expect=_project_list_answer)
        except RetriesExhausted as error:
            if error.hint is None:  # IAM answered, if only with errors: its host, so the region, exists
                raise
            # The region builds the IAM host: one that never answers is most often a misspelt region, or another cloud.
            raise error.with_hint("no HTTP answer came from the IAM endpoint %s, asked for the project ID of region '%s': %s; check also %s"
                                  % (url_origin(iam_endpoint), region, _project_lookup_fixes(region), NETWORK_ACCESS)) from None
        projects = [project for project in body["projects"] if project.get("name", region) == region and project.get("id")]
        if not projects:
            raise ConfigurationError("could not find the project ID of region '%s' through IAM at %s (0 projects matched): %s"
                                     % (region, url_origin(iam_endpoint), _project_lookup_fixes(region)))
        if len(projects) > 1:
            raise ConfigurationError("could not find the project ID of region '%s' through IAM at %s (%d projects matched): set project_id"
                                     % (region, url_origin(iam_endpoint), len(projects)))
        return str(projects[0]["id"])


def _project_lookup_fixes(region):
    """What mends a project lookup that found nothing, most likely first: the region, the cloud, or no lookup at all."""
    return ("check that region '%s' is spelled right; for another cloud set cloud, or endpoint and"
            " iam_endpoint; or set project_id" % region)


def _shifted(moment, delta):
    """moment + delta, held within the datetimes the API's time format can carry."""
    lowest = datetime(1000, 1, 1, tzinfo=timezone.utc)
    highest = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return min(max(moment + delta, lowest), highest)
    except OverflowError:
        return lowest if delta < timedelta(0) else highest


def _list_of_objects(body, key):
    value = body.get(key)
    if not isinstance(value, list):
        raise ValueError("'%s' is %s, not a list" % (key, "missing" if key not in body else type(value).__name__))
    if not all(isinstance(item, dict) for item in value):
        raise ValueError("'%s' is not a list of objects" % key)
    return value


def _check_tasks(body):
    for raw in _list_of_objects(body, "tasks"):
        for field in ("id", "status"):
            if not isinstance(raw.get(field), str) or not raw[field].strip():
                raise ValueError("a task has no '%s'" % field)


def _task_list_answer(body):
    _check_tasks(body)
    try:
        count = task_count(body)
    except ValueError:
        raise ValueError("'task_count' is not a number") from None
    if count is not None and count < 0:
        raise ValueError("'task_count' is negative")


def _single_task_answer(task_id):
    def check(body):
        _check_tasks(body)
        ids = [raw["id"] for raw in body["tasks"]]
        if ids != [str(task_id)]:
            raise ValueError("asked for task %s, the answer holds %s" % (task_id, ", ".join(ids) or "no task"))
    return check


def _progress_answer(body):
    if "step_list" in body and not isinstance(body["step_list"], (list, type(None))):
        raise ValueError("'step_list' is not a list")


def _instance_answer(body):
    status = body.get("status")
    if not isinstance(status, str) or not status.strip():
        raise ValueError("the instance has no 'status'")


def _project_list_answer(body):
    _list_of_objects(body, "projects")
