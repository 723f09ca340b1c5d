"""The AWS calls' one retry policy (launcher/aws/retry.py): which answers are retried, the jittered backoff's
bounds, and the loop's counting, deadline and log line. Time, randomness and sleep are stubbed."""

import pytest

from launcher.aws import retry


@pytest.fixture
def clock(monkeypatch):
    """A fake monotonic clock that sleeping moves on; random() at its top, so each wait is its bound."""
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(retry.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(retry.time, "sleep", sleep)
    monkeypatch.setattr(retry.random, "random", lambda: 1.0)
    return now, slept


@pytest.mark.parametrize("status, code, retried, slow", [
    (500, "", True, False), (503, "", True, True), (429, "", True, True), (400, "SlowDown", True, True),
    (400, "RequestTimeout", True, False), (404, "NoSuchKey", False, False), (403, None, False, False),
])
def test_which_answers_are_retried(status, code, retried, slow):
    assert retry.retryable(status, code) is retried
    assert retry.throttling(status, code) is slow


def test_the_wait_doubles_from_its_base_up_to_the_cap(clock):
    assert [retry.delay(n) for n in (0, 1, 2, 10)] == [0.05, 0.1, 0.2, 20.0]
    assert [retry.delay(n, throttled=True) for n in (1, 4, 5)] == [2.0, 16.0, 20.0]


def failing(details, returns="done"):
    """An attempt that raises each of ``details`` in turn (an Again given as is), then returns."""
    left = list(details)

    def attempt():
        if left:
            detail = left.pop(0)
            raise detail if isinstance(detail, retry.Again) else retry.Again(detail)
        return returns
    return attempt


def test_gives_up_after_so_many_failures_in_a_row(clock, capsys):
    with pytest.raises(retry.GaveUp) as stop:
        retry.loop(failing(["a", "b", "c", "d"]), 3, what="GetObject s3://b/k")
    assert (stop.value.failures, str(stop.value.last), stop.value.late) == (3, "c", False)
    assert clock[1] == [0.1, 0.2]
    err = capsys.readouterr().err
    assert "GetObject s3://b/k: a; retrying in 0.10 s (1 of 3 failures)" in err
    assert "GetObject s3://b/k: b; retrying in 0.20 s (2 of 3 failures)" in err


def test_free_retries_are_not_counted_and_progress_starts_the_count_again(clock):
    assert retry.loop(failing([retry.Again("moved", free=True), "x", "y"]), 3) == "done"
    assert clock[1] == [0.1, 0.2]
    written = [0]

    def attempt():
        written[0] += 1
        if written[0] < 6:
            raise retry.Again("cut", throttled=True)
        return written[0]
    assert retry.loop(attempt, 2, progress=lambda: written[0]) == 6
    assert clock[1][2:] == [1.0] * 5


def test_a_wait_that_would_pass_the_deadline_gives_up_at_once(clock, capsys):
    with pytest.raises(retry.GaveUp) as stop:
        retry.loop(failing(["a", "b"]), 5, deadline=lambda: 100.15)
    assert (stop.value.failures, str(stop.value.last), stop.value.late) == (2, "b", True)
    assert clock[1] == [0.1] and capsys.readouterr().err == ""
    assert retry.loop(failing(["a"]), 5, deadline=lambda: None) == "done"
