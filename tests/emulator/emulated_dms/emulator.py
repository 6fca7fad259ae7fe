# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One request in, one reply out: routing, authentication, faults, the answer and the log entry."""

from __future__ import annotations

import threading
import time
import uuid

from . import dms_api, write_calls
from .faults import Faults
from .iam import Iam, iam_unauthorized
from .messages import error_reply
from .request_log import RequestLog
from .routing import IAM_KINDS, route
from .scenario import Scenario


class Emulator:
    def __init__(self, scenario_spec, log_path=None):
        self.lock = threading.Lock()
        self.iam = Iam()
        self.log = RequestLog(log_path)
        self.scenario = Scenario(scenario_spec)
        self.faults = Faults(self.scenario.fault_specs)
        # Which load or reset the log in memory belongs to: a request that arrived before one (answered late, say
        # after a fault's delay) is kept out of the log that followed it, whose numbering it never took part in.
        self.generation = 0

    def load(self, scenario_spec):
        """Replace the scenario and restart its clocks; history and lockouts start afresh, issued tokens stay valid."""
        scenario = Scenario(scenario_spec)
        faults = Faults(scenario.fault_specs)
        with self.lock:
            self.scenario, self.faults = scenario, faults
            self.log.clear()
            self.generation += 1
            self.iam.unlock_all()

    def reset(self):
        """Forget the request history: log, request numbers, fault rule state and lockouts. The clocks run on."""
        with self.lock:
            self.faults = Faults(self.scenario.fault_specs)
            self.log.clear()
            self.generation += 1
            self.iam.unlock_all()

    def requests(self, kind=None):
        with self.lock:
            return self.log.select(kind)

    def counts(self):
        with self.lock:
            return self.log.counts()

    def close(self):
        self.log.close()

    def handle(self, request):
        request_id = uuid.uuid4().hex
        kind, params = route(request.method, request.path)
        with self.lock:
            scenario, generation = self.scenario, self.generation
            instance = scenario.instances.get(params.get("instance_id"))
            if instance is not None:
                instance.reach()
            auth, auth_error = self.iam.authenticate(scenario, kind, request)
            rule = self.faults.pick(kind, params.get("instance_id"))
        reply = None
        if rule is not None:
            if rule.delay:
                time.sleep(rule.delay)
            if rule.insert is not None:
                self.insert_tasks(scenario, rule.insert, params.get("instance_id"))
            reply = rule.reply(request_id)
        if reply is None:
            with self.lock:
                reply = self.answer(scenario, kind, params, request, auth, auth_error, request_id, rule is not None and rule.ignore_start)
            if rule is not None:
                reply = rule.lose(reply)
        if not reply.drop:
            # IAM names its request ID differently from the API gateway.
            reply.headers["X-IAM-Trace-Id" if kind in IAM_KINDS else "X-Request-Id"] = request_id
        with self.lock:
            self.log.record(request, kind, params, reply, auth, auth_error, rule, request_id, (instance or scenario).clock,
                            in_memory=generation == self.generation)
        return reply

    def insert_tasks(self, scenario, spec, instance_id):
        with self.lock:
            instance = scenario.instances.get(spec.get("instance", instance_id))
            if instance is not None:
                instance.insert(spec)

    def answer(self, scenario, kind, params, request, auth, auth_error, request_id, ignore_start):
        if kind == "unknown":
            return error_reply(*dms_api.NO_SUCH_API, request_id=request_id)
        if auth_error:
            if kind == "iam_token" and not request.headers.get("Authorization"):
                return iam_unauthorized(auth_error)
            return error_reply(401, scenario.auth_error_code, auth_error, request_id)
        if kind == "iam_projects":
            return self.iam.answer_projects(scenario, request)
        if kind == "iam_token":
            return self.iam.answer_token(scenario, auth)
        if kind in write_calls.WRITE_KINDS:
            return write_calls.answer(scenario, kind, params, request, request_id)
        return dms_api.answer(scenario, kind, params, request, request_id, ignore_start)
