# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start the DMS emulator (the emulated_dms package beside this file); docs/emulator.md describes it.

    python3 tests/emulator/dms_emulator.py --scenario tests/emulator/scenarios/demo.yaml --port 8080
"""

from __future__ import annotations

import sys

if __package__:
    # Imported from tests (as ansible_collections.hwcloud.dms.tests.emulator.dms_emulator), which take these two from here.
    from .emulated_dms.certificates import write_certificates
    from .emulated_dms.scenario import task_id_for
    from .emulated_dms.server import main
else:
    # Run as a script: its own folder is sys.path[0].
    from emulated_dms.certificates import write_certificates
    from emulated_dms.scenario import task_id_for
    from emulated_dms.server import main

__all__ = ["main", "task_id_for", "write_certificates"]

if __name__ == "__main__":
    sys.exit(main())
