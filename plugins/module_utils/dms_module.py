# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module of the collection does around its own work, so that a module file is its docs and a short ``run``.

A module builds AnsibleModule from its argument spec (``ansible_module``), needs ``requests``, builds the client from
the connection options, runs, and turns a typed error of the client into a failed result outside any except block
(ansible-core 2.18 adds the traceback of an exception being handled at -vvv): ``run_module``.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.validation import check_type_float, check_type_int

from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import DmsError
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import REQUESTS_IMPORT_ERROR
from ansible_collections.hwcloud.dms.plugins.module_utils.options import connection_settings
from ansible_collections.hwcloud.dms.plugins.module_utils.validation import shown

NUMBER_CONVERTERS = {"int": check_type_int, "float": check_type_float}


def ansible_module(spec, failed_result=None, **kwargs):
    """AnsibleModule(argument_spec=spec, ...) that refuses an infinite or oversized number naming its option.

    ansible-core's conversion of int and float options raises OverflowError on such a value instead of refusing it,
    which ends the module in a traceback. Then the numbers are taken as given and converted here, one by one; the
    refusal carries ``failed_result`` (the module's return values for a failure before any request).
    """
    try:
        return AnsibleModule(argument_spec=spec, **kwargs)
    except OverflowError:
        pass
    as_given = {}
    for name, option in spec.items():
        as_given[name] = dict((key, "raw" if key in ("type", "elements") and value in NUMBER_CONVERTERS else value)
                              for key, value in option.items())
    module = AnsibleModule(argument_spec=as_given, **kwargs)
    for name, option in spec.items():
        value = module.params.get(name)
        if value is not None and not _converted(module.params, name, option):
            module.fail_json(msg="%s must be a finite number within its documented range, got %s" % (name, shown(value)), **(failed_result or {}))
    return module


def _converted(params, name, option):
    """Convert params[name] as its int or float (list) option would; False when it cannot be."""
    try:
        if option.get("type") in NUMBER_CONVERTERS:
            params[name] = NUMBER_CONVERTERS[option["type"]](params[name])
        elif option.get("elements") in NUMBER_CONVERTERS:
            params[name] = [NUMBER_CONVERTERS[option["elements"]](element) for element in params[name]]
    except (OverflowError, TypeError, ValueError):
        return False
    return True


def run_module(spec, run, nothing_done, doing):
    """Run a module: ``run(module, client)`` returns its result, or calls ``module.fail_json`` itself for a failure that
    has one; a DmsError it raises fails the module with the error's ``module_failure(doing(params))`` over
    ``nothing_done(params)``, the result keys the module returns before anything was done (params may be empty then)."""
    module = ansible_module(spec, failed_result=nothing_done({}), supports_check_mode=True)
    if REQUESTS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR), **nothing_done(module.params))
    failure = None
    try:
        result = run(module, DmsClient(connection_settings(module.params)))
    except DmsError as error:
        failure = dict(nothing_done(module.params), **error.module_failure(doing(module.params)))
    if failure is not None:
        module.fail_json(**failure)
    module.exit_json(**result)
