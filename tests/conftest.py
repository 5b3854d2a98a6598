"""Fixtures for tests that run in both modes and against both kinds of store (see backends.py, docs/testing.md).

Every test that starts a server (`server.running_server`, ...; itself or in a fixture it uses), asks for `mode`, or
is marked `modes`, runs once per mode: `mode` is parametrized "embedded" / "distributed" (the ids in the test
names) and says what `running_server` builds. A test that is about the embedded form only is marked
`embedded_only(reason)` and runs in that mode alone.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends import MODES, Backend, backend_of, in_mode, nats_stream, owning_places
from ccdata.store.ports import Store
from server import live_modes


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "modes: the module's tests run in both modes (the `mode` fixture)")
    config.addinivalue_line(
        "markers", "embedded_only(reason): the test is about the embedded form; it runs in that mode only"
    )
    config.addinivalue_line(
        "markers", "distributed_only(reason): the test is about several nodes; it runs in the distributed mode only"
    )
    config.addinivalue_line("markers", "own_modes: the test builds the forms it compares itself (not parametrized)")


#: What starts a server or a node of the test's mode (server.py, processes.py, openapi_support.py).
BUILDERS = ("running_server(", "live_server(", "offline_service(", "serve_args(", "build_service(")


def runs_in_modes(metafunc: pytest.Metafunc) -> bool:
    """A test runs in both modes when it, or a fixture it uses, starts a server (or asks for `mode`)."""
    definition = metafunc.definition
    if definition.get_closest_marker("own_modes") is not None:
        return False
    if definition.get_closest_marker("modes") is not None:
        return True
    bodies = [metafunc.function] + [d.func for defs in metafunc._arg2fixturedefs.values() for d in defs]
    for body in bodies:
        if getattr(body, "__name__", "") in ("mode", "_one_mode_at_a_time"):
            continue
        if "mode" in inspect.signature(body).parameters:
            return True
        with contextlib.suppress(OSError, TypeError):
            if any(builder in inspect.getsource(body) for builder in BUILDERS):
                return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marks = {name: metafunc.definition.get_closest_marker(name) for name in ("embedded_only", "distributed_only")}
    only = next(((name, mark) for name, mark in marks.items() if mark is not None), None)
    if "mode" not in metafunc.fixturenames or not (only or runs_in_modes(metafunc)):
        return
    if only is not None and not (only[1].args or only[1].kwargs.get("reason")):
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: {only[0]} needs its reason")
    modes = [only[0].removesuffix("_only")] if only is not None else list(MODES)
    metafunc.parametrize("mode", modes, indirect=True, scope="module")


@pytest.fixture(autouse=True, scope="module")
def mode(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The form the test's servers run in ("embedded", "distributed"; None for a test that chooses none). Its
    distributed places (database, stream, Redis prefix) are removed when the tests of this mode are done; a
    module-scoped fixture that starts a server requests `mode`, so that it starts one per mode."""
    chosen = getattr(request, "param", None)
    with in_mode(chosen):
        yield chosen


@pytest.fixture(autouse=True)
def _one_mode_at_a_time(mode: str | None) -> Iterator[None]:
    """Places made by the test itself are removed after it; a server left from the other mode is a mistake (a
    module-scoped fixture that starts a server without requesting `mode`)."""
    stray = live_modes() & set(MODES) - {mode}
    assert not stray, f"a server of the {stray} mode is still running: its module fixture must request `mode`"
    with owning_places():
        yield


@pytest.fixture
def stream() -> Iterator[str]:
    """A JetStream stream of this test's own, removed afterwards; NATS down is a failure that says how to start it."""
    with nats_stream() as name:
        yield name


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Where a store lives, embedded or distributed; `backend.open()` opens a store there (again)."""
    with backend_of(request.param, tmp_path) as where:
        yield where


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    opened = backend.open()
    yield opened
    opened.close()
