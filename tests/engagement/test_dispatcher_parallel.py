"""Two dispatchers at once: their claims never overlap, so no message is sent twice
(PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the guarded claim)."""

from __future__ import annotations

import threading

from tenure.engagement.dispatcher import DispatchResult, dispatch
from tenure.kit.runtime import Runtime

from .conftest_outbox import add_webhook, by_status, message, queue, running_receiver

MESSAGES = 80


def test_two_dispatchers_in_parallel_never_send_the_same_message(any_runtime: Runtime) -> None:
    runtime = any_runtime
    with running_receiver(delay=0.002) as receiver:
        add_webhook(runtime, receiver.url)
        ids = queue(runtime, MESSAGES)
        runs: dict[str, list[DispatchResult]] = {"a": [], "b": []}
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def dispatcher(name: str) -> None:
            try:
                start.wait()
                while True:
                    result = dispatch(runtime, limit=5)
                    runs[name].append(result)
                    if result.claimed == 0:
                        return
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)

        threads = [threading.Thread(target=dispatcher, args=(name,)) for name in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert errors == []
    sent = {name: sum(r.sent for r in results) for name, results in runs.items()}
    assert sum(sent.values()) == MESSAGES
    assert all(n > 0 for n in sent.values()), f"both dispatchers should have worked: {sent}"
    assert sum(r.skipped + r.failed + r.dead for rs in runs.values() for r in rs) == 0
    assert receiver.bad == []
    assert sorted(receiver.keys()) == sorted(f"m-{n}" for n in range(MESSAGES))
    assert receiver.repeats() == 0
    assert by_status(runtime) == {"sent": MESSAGES}
    assert {message(runtime, mid).attempts for mid in ids} == {1}  # every claim was disjoint
