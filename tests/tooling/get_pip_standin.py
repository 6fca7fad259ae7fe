# -*- coding: utf-8 -*-
# Copyright: contributors to hwcloud.dms
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the ``get-pip.py`` bootstrap script that ansible-test downloads.

Why: every virtual environment ansible-test creates (``--venv`` and the sanity import test) is
bootstrapped with ``get-pip-<version>.py`` fetched from a CI host that an offline machine cannot reach.
ansible-test first looks in its cache, ``~/.ansible/test/cache/get_pip_<version>.py``; noxfile.py
copies this file there, in the session's own HOME, under both names it needs (``get_pip_24_2.py``,
``get_pip_25_2.py``).

What it does: ansible-test runs it as ``__main__`` inside a fresh venv created ``--without-pip``,
with arguments such as ``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``.
Like the real script, it imports pip from a wheel (the one the interpreter's ``ensurepip`` bundles)
and runs ``pip install`` with those arguments, so the requested ``pip==X`` comes from the package
index. ``--no-setuptools`` / ``--no-wheel`` are options of get-pip, not of pip: they are dropped
(a bare ``pip install`` does not add setuptools or wheel anyway).

Must stay valid on every Python that ansible-test may bootstrap (3.8 and newer).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import glob
import os
import sys

# Options the real get-pip.py understands but pip itself would reject.
GET_PIP_ONLY_OPTIONS = ('--no-setuptools', '--no-wheel')


def wheel_version(path):
    """Return the version of a ``pip-X.Y.Z-...whl`` file name as a tuple of ints (for sorting)."""
    version = os.path.basename(path).split('-')[1]
    return tuple(int(part) if part.isdigit() else 0 for part in version.split('.'))


def find_bundled_pip_wheel():
    """Return the path of a pip wheel shipped with this interpreter, or None.

    The interpreter's own ensurepip wheel comes first: a Debian-style shared wheel (or a stale one left
    in ``_bundled`` by an older install) can be too old for a newer Python (pip 23.0 fails on 3.13).
    """
    try:
        import ensurepip  # pylint: disable=import-outside-toplevel
    except ImportError:
        ensurepip = None

    if ensurepip is not None:
        bundled = os.path.join(os.path.dirname(ensurepip.__file__), '_bundled')
        expected = getattr(ensurepip, '_PIP_VERSION', None)
        if expected:
            path = os.path.join(bundled, 'pip-%s-py3-none-any.whl' % expected)
            if os.path.exists(path):
                return path
        candidates = glob.glob(os.path.join(bundled, 'pip-*.whl'))
        if candidates:
            return max(candidates, key=wheel_version)

    # Debian-style interpreters without a bundled wheel keep it outside the stdlib.
    candidates = glob.glob('/usr/share/python-wheels/pip-*.whl')
    if candidates:
        return max(candidates, key=wheel_version)
    return None


def main():
    """Install the requested packages with pip imported from the bundled wheel."""
    wheel = find_bundled_pip_wheel()
    if wheel is None:
        sys.stderr.write('get-pip stand-in: no bundled pip wheel found for %s (ensurepip missing)\n' % sys.executable)
        return 1

    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]

    sys.path.insert(0, wheel)
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel,import-error

    return pip_main(['install'] + args)


if __name__ == '__main__':
    sys.exit(main())
