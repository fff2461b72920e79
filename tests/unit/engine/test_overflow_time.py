import pytest

from safeguarding.errors import EventError
from safeguarding.events import parse_event


def test_time_that_overflows_in_utc_is_a_clear_event_error() -> None:
    with pytest.raises(EventError, match="out of range"):
        parse_event(
            {"id": "e1", "type": "follow", "actor": "a", "target": "b", "at": "0001-01-01T00:30:00+01:00"}
        )
