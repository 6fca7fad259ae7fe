# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dms_api: make one DMS API call on the controller, and wait for what it started with live lines.

Thin: the call, its waits and its result are api_call.py's; this file gives it the options, the client and the lines.
"""

from __future__ import annotations

from ansible_collections.hwcloud.dms.plugins.module_utils.api_call import METHODS, NO_ANSWER, call
from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient
from ansible_collections.hwcloud.dms.plugins.module_utils.options import connection_settings
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import WaitListener
from ansible_collections.hwcloud.dms.plugins.modules.dms_api import DOCUMENTATION
from ansible_collections.hwcloud.dms.plugins.plugin_utils.action_base import DmsAction
from ansible_collections.hwcloud.dms.plugins.plugin_utils.doc_spec import argument_spec_from_doc
from ansible_collections.hwcloud.dms.plugins.plugin_utils.live_lines import DisplayListener


class ActionModule(DmsAction):
    NAME = "hwcloud.dms.dms_api"
    ARGUMENT_SPEC = argument_spec_from_doc(DOCUMENTATION)
    CHANGES = True
    # A DmsError that reaches the plugin came before the call: the project ID could not be looked up.
    DOING = "The DMS API call was not sent"

    def always_returned(self):
        method = self._task.args.get("method", "GET")
        return dict(NO_ANSWER, method=method if method in METHODS else None)

    def act(self, params, host):
        listener = WaitListener() if self._task.no_log else DisplayListener("dms_api [%s]" % host)
        return call(params, DmsClient(connection_settings(params), on_retry=listener.retrying), check_mode=self._task.check_mode, listener=listener,
                    wait_budget=self.wait_budget())
