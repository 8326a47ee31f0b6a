"""The in-process stack of tests/faults (the real handlers on moto, every AWS call observable)."""

from tests.faults.conftest import stack  # noqa: F401 - the fixture
