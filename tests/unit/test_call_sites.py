"""pyinfra's operation order without the source lines: the same order, no source read."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from pyinfra.api import util

from operations import call_sites

STATE = cast(Any, SimpleNamespace(current_deploy_filename=__file__, current_op_file_number=7))


@pytest.fixture
def pyinfra_as_shipped() -> Iterator[None]:
    shipped = (util.stack, util.getframeinfo)
    util.stack, util.getframeinfo = inspect.stack, inspect.getframeinfo
    yield
    util.stack, util.getframeinfo = shipped


def _order_of_a_call() -> list[int]:
    return list(util.get_operation_order_from_stack(STATE))


def _from_one_line() -> list[int]:
    return _order_of_a_call()


def test_the_operation_order_is_the_same_without_source_context(pyinfra_as_shipped: None) -> None:
    orders = []
    for patched in (False, True):
        if patched:
            call_sites.without_source_context()
        orders.append(_from_one_line())
    shipped, patched_order = orders
    assert patched_order == shipped and len(shipped) >= 3
    # the twin: a call from another line is told apart, by both
    assert _order_of_a_call() != patched_order


def test_no_source_line_is_read(pyinfra_as_shipped: None) -> None:
    assert util.stack()[0].code_context is not None  # as shipped: one line of source a frame
    call_sites.without_source_context()
    assert all(frame.code_context is None for frame in util.stack())
    frame = inspect.currentframe()
    assert frame is not None and util.getframeinfo(frame).code_context is None
