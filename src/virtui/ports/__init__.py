"""What a host can do, one protocol per capability (domains, storage, configuration, logs).

A backend offers each capability it has through an accessor that returns the port or
None (``Backend.storage_port()`` …); LibvirtBackend returns one of its parts. The UI
and the review desk are typed against these protocols only, so a new capability is one
protocol here, its implementation in a backend, and one screen. Every method blocks: call
it from a background thread, never from the UI's event loop. Failures are the backend's
``BackendError`` (a readable ``message``, a ``reason`` such as "in use").
"""
