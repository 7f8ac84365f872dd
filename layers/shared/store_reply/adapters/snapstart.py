"""Lambda SnapStart: what a function primes before its snapshot, and what it makes anew after a restore.

Before the snapshot (once per published version): imports, settings, the language model loaded,
the service built with its clients, and one dry request through the handler's router that makes
no AWS call. After every restore: the random generator reseeded (botocore's retry jitter uses it),
and the service rebuilt on a new boto3 session, so credentials are resolved and connections opened
in the restored environment, never taken from the snapshot. Ids and timestamps are made per
request (``uuid4``, the clock), so the snapshot holds none.

``snapshot_restore_py`` comes with Lambda's Python runtimes (3.12 and later).
"""

import random
from collections.abc import Callable

from store_reply.adapters.clients import AwsClients, build_clients


class Primed[T]:
    """One built object (a service, a consumer) that SnapStart primes and renews.

    ``build(clients)`` makes the object from a set of clients; the handler calls ``get`` on every
    invocation. ``before_snapshot`` builds and exercises it; ``after_restore`` reseeds and rebuilds.
    """

    def __init__(
        self,
        build: Callable[[AwsClients], T],
        *,
        touch: Callable[[AwsClients], None] | None = None,
        dry_run: Callable[[T], None] | None = None,
    ) -> None:
        self._build = build
        self._touch = touch
        self._dry_run = dry_run
        self._built: T | None = None

    def get(self) -> T:
        """The object, built on first use when no snapshot primed it."""
        if self._built is None:
            self._built = self._build(build_clients())
        return self._built

    def before_snapshot(self) -> None:
        """Build, make the clients the first requests need, exercise once; keep no connection open."""
        clients = build_clients()
        built = self._build(clients)
        if self._touch is not None:
            self._touch(clients)
        if self._dry_run is not None:
            self._dry_run(built)
        self._built = built

    def after_restore(self) -> None:
        """Reseed and rebuild on a new session: nothing unique or time-bound comes from the snapshot."""
        random.seed()
        self._built = self._build(build_clients())

    def register(self) -> None:
        """Register the hooks with the Lambda runtime."""
        from snapshot_restore_py import (  # noqa: PLC0415 (the Lambda runtime's module)
            register_after_restore,
            register_before_snapshot,
        )

        register_before_snapshot(self.before_snapshot)
        register_after_restore(self.after_restore)
