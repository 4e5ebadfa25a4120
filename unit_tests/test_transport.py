"""The sync's request budget: evenly spaced requests, a pause after a 429 and a slower pace when they keep coming, and
recovery."""

import threading
import types

import pytest

from source_stripe import transport
from source_stripe.transport import RequestBudget, requests_per_second


@pytest.fixture
def clock(monkeypatch):
    """Stripe's clock stands still unless a test moves it; waits are recorded by the `retry_waits` fixture."""
    now = [1000.0]
    monkeypatch.setattr(transport, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    return now


def test_a_tenth_of_the_budget_goes_at_once_and_the_next_tenth_a_tenth_of_a_second_later(clock, retry_waits):
    budget = RequestBudget(per_second=100)

    for _ in range(21):
        budget.acquire()

    assert retry_waits == pytest.approx([0.1] * 10 + [0.2])


def test_at_test_modes_pace_requests_go_one_by_one_evenly_spaced(clock, retry_waits):
    budget = RequestBudget(per_second=24)

    for _ in range(4):
        budget.acquire()

    assert retry_waits == pytest.approx([1 / 24, 2 / 24, 3 / 24])


def test_no_second_ever_holds_more_requests_than_the_budget(clock, monkeypatch):
    sent = []
    monkeypatch.setattr(transport, "sleep", lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    budget = RequestBudget(per_second=95)

    for _ in range(1000):
        budget.acquire()
        sent.append(clock[0])

    busiest_second = max(sum(1 for other in sent if at <= other < at + 1) for at in sent)
    assert busiest_second == 95
    assert (len(sent) - 1) / (sent[-1] - sent[0]) == pytest.approx(95, rel=0.02)


def test_a_request_whose_thread_woke_late_holds_back_the_request_a_second_after_it(clock, monkeypatch):
    late, woken, waits = threading.current_thread(), threading.Event(), []

    def sleep(seconds):
        if threading.current_thread() is late:
            woken.wait()
            clock[0] += seconds + 0.3  # its turn came at 1000.5; the GIL let it go at 1000.8
        else:
            waits.append(seconds)

    monkeypatch.setattr(transport, "sleep", sleep)
    budget = RequestBudget(per_second=2)
    budget.acquire()  # at 1000.0
    late = threading.Thread(target=budget.acquire)
    late.start()
    budget.acquire()  # its turn, 1001.0, was set while the late one slept
    woken.set()
    late.join()

    budget.acquire()

    assert waits[-1] == pytest.approx(1.0)  # at 1001.8, a second after the late one went: not 1001.5


def test_a_rate_limit_holds_every_request_back_a_fifth_of_a_second(clock, retry_waits):
    budget = RequestBudget(per_second=10)

    budget.rate_limited()
    budget.acquire()

    assert retry_waits == pytest.approx([0.2])
    assert budget.rate == 10


def test_rate_limits_that_keep_coming_after_the_pause_slow_the_pace_a_tenth(clock, retry_waits):
    budget = RequestBudget(per_second=10)
    budget.rate_limited()
    clock[0] += 0.2 + 1.5

    budget.rate_limited()

    assert budget.rate == pytest.approx(9)


def test_a_rate_limit_long_after_the_last_pauses_without_slowing_the_pace(clock, retry_waits):
    budget = RequestBudget(per_second=10)
    budget.rate_limited()
    clock[0] += 0.2 + 2

    budget.rate_limited()

    assert budget.rate == 10


def test_rate_limits_of_requests_sent_together_count_once(clock, retry_waits):
    budget = RequestBudget(per_second=100)
    budget.rate_limited()
    clock[0] += 0.2

    for _ in range(5):
        budget.rate_limited()

    assert budget.rate == pytest.approx(90)


def test_the_pace_recovers_by_five_percent_of_the_budget_each_second_without_rate_limits(clock, retry_waits):
    budget = RequestBudget(per_second=100)
    for _ in range(3):
        budget.rate_limited()
        clock[0] += 0.2  # each after the pause of the one before
    slowed = budget.rate

    clock[0] += 2  # two quiet seconds
    budget.acquire()

    assert slowed == pytest.approx(81)
    assert budget.rate == pytest.approx(91)


def test_the_pace_never_drops_below_a_quarter_of_the_budget(clock, retry_waits):
    budget = RequestBudget(per_second=100)

    for _ in range(50):
        budget.rate_limited()
        clock[0] += 0.2

    assert budget.rate == 25


@pytest.mark.parametrize(
    "config, expected",
    [
        ({"environment": "live"}, 97),
        ({"environment": "test"}, 24),
        ({"environment": "live", "requests_per_second": 40}, 40),
        ({"environment": "test", "requests_per_second": 100}, 25),
    ],
)
def test_the_budget_is_just_under_stripes_limit_unless_lowered_and_never_above_it(config, expected):
    assert requests_per_second(config) == expected


def test_without_a_budget_requests_never_wait(clock, retry_waits):
    budget = RequestBudget(per_second=requests_per_second({"environment": "live", "no_request_budget": True}))

    for _ in range(1000):
        budget.acquire()
    budget.rate_limited()
    budget.acquire()

    assert retry_waits == []
