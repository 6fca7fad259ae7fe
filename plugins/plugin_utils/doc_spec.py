# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument spec of an action plugin, read from its documentation, so that its options are written once.

Controller-side only (it reads YAML): a module builds its spec in Python, where YAML may not be installed.
"""

from __future__ import annotations

import yaml

from ansible_collections.hwcloud.dms.plugins.module_utils.options import argument_spec

# The keys of an option's documentation that are also keys of its argument spec.
SPEC_KEYS = ("type", "elements", "choices", "default", "required", "aliases")


def argument_spec_from_doc(documentation):
    """The connection options of the option table, and the options ``documentation`` (a DOCUMENTATION string) states."""
    options = yaml.safe_load(documentation)["options"]
    return argument_spec(**dict((name, dict((key, option[key]) for key in SPEC_KEYS if key in option)) for name, option in options.items()))
