# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the connection options, rendered from the option table every plugin validates with."""

from __future__ import annotations

from ansible_collections.hwcloud.dms.plugins.module_utils.options import doc_fragment


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    DOCUMENTATION = doc_fragment()
