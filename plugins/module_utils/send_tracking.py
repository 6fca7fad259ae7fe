# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a failed request had begun to leave: the one fact that decides if a write may be sent again.

The exception of a failed request does not tell it: urllib3 raises the same SSLError for a TLS handshake that failed
before anything was sent and for a TLS record that broke while the answer was read, after the service may have
applied the request. So the session the HTTP client makes uses connections that record, per thread, how far the
current attempt got: ``begin_attempt()`` before it, ``attempt_phase()`` after it fails.

No Ansible imports. Without requests the adapter is not defined (the plugins report the missing library).
"""

from __future__ import annotations

import threading

try:
    import requests.adapters
    import urllib3
except ImportError:  # reported by the plugins as a missing requirement
    requests = None

# What attempt_phase() answers.
UNTRACKED = None  # the attempt made no connection of ours (a reused one, or a session of another kind)
CONNECTING = "connecting"  # a connection was being made (TCP, and TLS for https): nothing of the request was written
SENDING = "sending"  # the request was being written, or had been: the service may have received it

_attempt = threading.local()


def begin_attempt():
    """Forget the phase of this thread's previous attempt."""
    _attempt.phase = UNTRACKED


def attempt_phase():
    """How far this thread's current attempt got: UNTRACKED, CONNECTING or SENDING."""
    return getattr(_attempt, "phase", UNTRACKED)


def mount_phase_recording(session):
    """Make every http(s) request of this requests session record its phase."""
    for prefix in ("http://", "https://"):
        session.mount(prefix, PhaseRecordingAdapter())


if requests is not None:

    class _PhaseRecording:
        """Connection mixin: CONNECTING while a connection is made, SENDING from the first write of a request on."""

        def connect(self):
            _attempt.phase = CONNECTING
            super().connect()

        def request(self, *args, **kwargs):
            if self.sock is None:
                # http.client would connect on the first write; connecting here keeps its failures before SENDING.
                self.connect()
            _attempt.phase = SENDING
            return super().request(*args, **kwargs)

    class _HTTPConnection(_PhaseRecording, urllib3.connection.HTTPConnection):
        pass

    class _HTTPSConnection(_PhaseRecording, urllib3.connection.HTTPSConnection):
        pass

    class _HTTPConnectionPool(urllib3.HTTPConnectionPool):
        ConnectionCls = _HTTPConnection

    class _HTTPSConnectionPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = _HTTPSConnection

    _POOLS = {"http": _HTTPConnectionPool, "https": _HTTPSConnectionPool}

    class PhaseRecordingAdapter(requests.adapters.HTTPAdapter):
        """A requests adapter whose connections record the phase of each attempt (see attempt_phase)."""

        def init_poolmanager(self, *args, **kwargs):  # pylint: disable=arguments-differ
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = _POOLS

        def proxy_manager_for(self, proxy, **proxy_kwargs):
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            # A SOCKS proxy brings connection classes of its own: its attempts stay UNTRACKED.
            if not proxy.lower().startswith("socks"):
                manager.pool_classes_by_scheme = _POOLS
            return manager
