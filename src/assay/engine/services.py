"""Which service instances a run needs, when to start them and when to stop them.

An instance is a service definition in a scope: one for the whole run
(`scope: run`), one per suite file (`suite`) or one per test (`test`). An
instance starts when the first test that needs it is about to start (after
the instances it needs), and stops once the last test that needs it has its
result. A service that fails to start is not tried again for the same
instance: the tests that need it get its error at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assay.model import CommandTest, ServiceSpec
from assay.sandbox import Cancellation

if TYPE_CHECKING:
    from assay.services import Service

Key = tuple[tuple[str, str], str]  # (service definition, scope instance)


@dataclass(slots=True)
class _Instance:
    spec: ServiceSpec
    users: int = 0
    service: Service | None = None
    error: str | None = None
    """Why it could not start, or how it died."""
    order: int = 0
    needs: list[Key] = field(default_factory=list)


@dataclass(slots=True)
class Services:
    """The service instances of one run, counted by the tests that need them."""

    logs_dir: Path
    cancel: Cancellation
    instances: dict[Key, _Instance] = field(default_factory=dict)
    needed: dict[int, list[Key]] = field(default_factory=dict)  # test -> instances, needs first
    direct: dict[int, list[Key]] = field(default_factory=dict)  # test -> its own services
    started: int = 0

    def plan(self, tests: Sequence[CommandTest]) -> None:
        """Count, for each instance, the tests that need it."""
        for index, test in enumerate(tests):
            if not test.services:
                continue
            keys: list[Key] = []
            for spec in test.services:
                self._visit(spec, index, test, keys)
            self.needed[index] = keys
            self.direct[index] = [self._key(s, index, test) for s in test.services]
            for key in keys:
                self.instances[key].users += 1

    def _key(self, spec: ServiceSpec, index: int, test: CommandTest) -> Key:
        scope = {"run": "run", "suite": test.suite_file.as_posix()}.get(spec.scope, f"#{index}")
        return (spec.key, scope)

    def _visit(self, spec: ServiceSpec, index: int, test: CommandTest, keys: list[Key]) -> Key:
        needs = [self._visit(need, index, test, keys) for need in spec.needs]
        key = self._key(spec, index, test)
        if key not in keys:
            keys.append(key)
            self.instances.setdefault(key, _Instance(spec, needs=needs))
        return key

    def prepare(self, indices: Sequence[int]) -> dict[str, str] | str:
        """Start what the tests need; their services' values, or why a service is missing."""
        keys = [k for i in indices for k in self.needed.get(i, ())]
        for key in dict.fromkeys(keys):
            problem = self._ensure(key)
            if problem is not None:
                return problem
        values: dict[str, str] = {}
        for key in dict.fromkeys(k for i in indices for k in self.direct.get(i, ())):
            instance = self.instances[key]
            assert instance.service is not None
            values.update(
                {f"{instance.spec.name}.{k}": v for k, v in instance.service.values.items()}
            )
        return values

    def _ensure(self, key: Key) -> str | None:
        instance = self.instances[key]
        if instance.error is not None:
            return instance.error
        if instance.service is not None:
            return None
        needs: dict[str, dict[str, str]] = {}
        for need_key in instance.needs:
            need = self.instances[need_key]
            if need.service is None:  # started first: only a failure leaves it missing
                return f"service {instance.spec.name!r} needs {need.spec.name!r}: {need.error}"
            needs[need.spec.name] = need.service.values
        # Imported here: runs that need no service never pay for probes and HTTP clients.
        from assay import services

        try:
            instance.service = services.start(
                instance.spec, logs_dir=self.logs_dir, needs=needs, cancel=self.cancel
            )
        except services.ServiceError as error:
            instance.error = str(error)
            return instance.error
        self.started += 1
        instance.order = self.started
        return None

    def fds(self) -> dict[int, Key]:
        """The descriptors of running services, readable when one exits."""
        found: dict[int, Key] = {}
        for key, instance in self.instances.items():
            if instance.service is not None and instance.error is None:
                fd = instance.service.fileno()
                if fd >= 0:
                    found[fd] = key
        return found

    def check(self, key: Key) -> list[int]:
        """Note whether the instance died; the tests that use it if it did."""
        instance = self.instances[key]
        if instance.service is None or instance.error is not None:
            return []
        died = instance.service.died()
        if died is None:
            return []
        instance.error = died
        return [i for i, keys in self.needed.items() if key in keys]

    def died(self, index: int) -> str | None:
        """Why a service the test needs is gone, if one is."""
        for key in self.needed.get(index, ()):
            instance = self.instances[key]
            if instance.service is not None and instance.error is None:
                instance.error = instance.service.died()
            if instance.error is not None and instance.service is not None:
                return instance.error
        return None

    def release(self, index: int) -> None:
        """A test has its result: stop the instances no other test needs."""
        for key in reversed(self.needed.pop(index, ())):
            instance = self.instances[key]
            instance.users -= 1
            if instance.users <= 0 and instance.service is not None:
                instance.service.stop()

    def close(self) -> None:
        """Stop every instance still running, the last started first."""
        running = [i for i in self.instances.values() if i.service is not None]
        for instance in sorted(running, key=lambda i: -i.order):
            assert instance.service is not None
            instance.service.stop()
