# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DMS background-task API: endpoints, project lookup, paging, and the four task calls.

No Ansible imports. Returns tasks already normalised (see tasks.py); raises the typed errors of errors.py.
"""

from __future__ import annotations

from itertools import islice
from urllib.parse import quote

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError, NotFoundError, TransportError
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import HttpClient
from ansible_collections.hwcloud.dms.plugins.module_utils.signing import AkSkSigner, TokenAuth
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import newest_first, normalize_task, to_api_time

PAGE_SIZE = 100  # the API's maximum
# A full page of tasks already seen happens when a page's worth of tasks was created between two calls;
# several in a row mean the server ignores ``start``, and paging on would never end.
MAX_PAGES_WITHOUT_NEW_TASKS = 2
INSTANCE_NOT_FOUND = "DMS.00404022"


def make_auth(settings):
    if settings.auth_token:
        return TokenAuth(settings.auth_token)
    return AkSkSigner(settings.access_key, settings.secret_key, settings.security_token)


class DmsClient:
    """One client per plugin run: one HTTP session, the project ID looked up at most once."""

    def __init__(self, settings, http=None):
        self._settings = settings
        self._project_id = settings.project_id
        self.http = http or HttpClient(
            make_auth(settings), request_timeout=settings.request_timeout, max_retries=settings.max_retries,
            validate_certs=settings.validate_certs, ca_path=settings.ca_path,
        )

    @property
    def calls(self):
        """HTTP requests sent so far, retries included."""
        return self.http.calls

    def project_id(self, deadline=None):
        if not self._project_id:
            self._project_id = self._lookup_project_id(deadline)
        return self._project_id

    def list_tasks(self, instance_id, begin_time=None, end_time=None, deadline=None):
        """Yield the instance's tasks, newest first, each once, fetching pages only as they are consumed.

        The API is believed to list newest first, but does not say so: should the first page come in another
        order, every page is read and the tasks are sorted, so callers can always rely on the order.
        """
        query = []
        if begin_time is not None:
            query.append(("begin_time", to_api_time(begin_time)))
        if end_time is not None:
            query.append(("end_time", to_api_time(end_time)))
        tasks = self._each_task(instance_id, query, deadline)
        first_page = list(islice(tasks, PAGE_SIZE))
        if newest_first(first_page) != first_page:
            yield from newest_first(first_page + list(tasks))
            return
        yield from first_page
        yield from tasks

    def _each_task(self, instance_id, query, deadline):
        """The tasks in the API's order, each once.

        Pages by ``start`` (1-based). Tasks created while paging push older ones down a page, so tasks are
        de-duplicated by id; paging stops on a short page, once ``task_count`` tasks are held, or after
        MAX_PAGES_WITHOUT_NEW_TASKS pages in a row that add nothing (so a misbehaving server cannot make it loop).
        """
        seen = set()
        start = 1
        pages_without_new = 0
        while True:
            body = self._dms("GET", instance_id, "/tasks", query + [("start", str(start)), ("limit", str(PAGE_SIZE))], deadline)
            page = _list_of_objects(body, "tasks")
            added = 0
            for raw in page:
                task = normalize_task(raw)
                if task["id"] not in seen:
                    seen.add(task["id"])
                    added += 1
                    yield task
            pages_without_new = 0 if added else pages_without_new + 1
            total = _int_or_none(body.get("task_count"))
            if len(page) < PAGE_SIZE or pages_without_new >= MAX_PAGES_WITHOUT_NEW_TASKS or (total is not None and len(seen) >= total):
                return
            start += PAGE_SIZE

    def get_task(self, instance_id, task_id, deadline=None):
        """The task, or None when the instance has no such task."""
        try:
            body = self._dms("GET", instance_id, "/tasks/" + _segment(task_id), [], deadline)
        except NotFoundError as error:
            if error.error_code == INSTANCE_NOT_FOUND:
                raise
            return None
        tasks = _list_of_objects(body, "tasks")
        return normalize_task(tasks[0]) if tasks else None

    def delete_task(self, instance_id, task_id, deadline=None):
        self._dms("DELETE", instance_id, "/tasks/" + _segment(task_id), [], deadline)

    def get_task_progress(self, instance_id, task_id, deadline=None):
        """The task's progress dict, or None where the engine (RabbitMQ) or the task has none."""
        try:
            return self._dms("GET", instance_id, "/tasks/%s/progress" % _segment(task_id), [], deadline)
        except NotFoundError as error:
            if error.error_code == INSTANCE_NOT_FOUND:
                raise
            return None

    def _dms(self, method, instance_id, suffix, query, deadline):
        project_id = self.project_id(deadline)
        url = "%s/v2/%s/instances/%s%s" % (self._settings.endpoint, _segment(project_id), _segment(instance_id), suffix)
        return self.http.request(method, url, query, {"X-Project-Id": project_id}, deadline) or {}

    def _lookup_project_id(self, deadline):
        region = self._settings.region
        body = self.http.request("GET", self._settings.iam_endpoint + "/v3/projects", [("name", region)], None, deadline) or {}
        projects = [project for project in _list_of_objects(body, "projects") if project.get("name", region) == region and project.get("id")]
        if len(projects) != 1:
            raise ConfigurationError(
                "could not find the project ID of region %s through IAM (%s project%s matched); set project_id"
                % (region, len(projects), "" if len(projects) == 1 else "s"))
        return str(projects[0]["id"])


def _segment(value):
    return quote(str(value), safe="")


def _list_of_objects(body, key):
    """body[key] as a list of dicts; an answer of another shape is an error, not a crash further on."""
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TransportError("unexpected answer: '%s' is not a list of objects" % key)
    return value


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
