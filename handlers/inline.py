"""Listeners whose answer is their last step run in the request's own thread.

Bolt, unless ``process_before_response`` is set for the whole app, hands every
listener to its executor and has the request's thread look for the ack every 10 ms.
For a listener that does everything before acking and nothing after (a typed
`/csp progress`, `/csp due`), that costs a thread hop, up to 10 ms of waiting and, at
sixteen requests at once, a hundred wake-ups a second per request, all for an answer
the request's own thread could have computed. A listener marked with :func:`in_ack`
runs there instead, for the requests its predicate accepts (the rest, such as
commands that open a form after acking, go to the executor as before).

:class:`CspApp` is Bolt's App with that runner. It replaces the app's listener runner
(Bolt has no setting for it); ``tests/handlers/test_inline.py`` fails if a Bolt
release changes what this relies on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import App
from slack_bolt.listener import Listener
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R", bound=ThreadListenerRunner)
Answers = Callable[[dict[str, Any]], bool]  # a request's body -> answered in the ack?

_IN_ACK = "__csp_in_ack__"


def in_ack(answers: Answers) -> Callable[[F], F]:
    """Mark a listener as answering in its ack, with nothing after it, for the
    requests whose body ``answers`` accepts: those run in the request's thread."""

    def mark(listener: F) -> F:
        setattr(listener, _IN_ACK, answers)
        return listener

    return mark


def answered_here(listener: Listener, request: BoltRequest) -> bool:
    """Whether ``listener`` runs in ``request``'s own thread."""
    answers: Answers | None = getattr(getattr(listener, "ack_function", None), _IN_ACK, None)
    if answers is None or request.lazy_only:
        return False
    body = request.body
    return isinstance(body, dict) and answers(body)


class InlineRunner(ThreadListenerRunner):
    """Bolt's runner, but a marked listener's accepted requests are run as Bolt runs
    every listener with ``process_before_response``: in this thread, answered when it
    returns."""

    @classmethod
    def taking_over(cls, runner: ThreadListenerRunner) -> InlineRunner:
        return _like(runner, cls, before_response=runner.process_before_response)

    def run(
        self,
        request: BoltRequest,
        response: BoltResponse,
        listener_name: str,
        listener: Listener,
        starting_time: float | None = None,
    ) -> BoltResponse | None:
        if self.process_before_response or not answered_here(listener, request):
            return super().run(request, response, listener_name, listener, starting_time)
        # Made now: the app's error handler is set on this runner after it is made.
        here = _like(self, ThreadListenerRunner, before_response=True)
        return here.run(request, response, listener_name, listener, starting_time)


def _like(runner: ThreadListenerRunner, kind: type[R], *, before_response: bool) -> R:
    """A runner of ``kind`` with ``runner``'s logger, handlers, executor and lazy runner."""
    return kind(
        logger=runner.logger,
        process_before_response=before_response,
        listener_error_handler=runner.listener_error_handler,
        listener_start_handler=runner.listener_start_handler,
        listener_completion_handler=runner.listener_completion_handler,
        listener_executor=runner.listener_executor,
        lazy_listener_runner=runner.lazy_listener_runner,
    )


class CspApp(App):
    """Bolt's App whose listeners marked :func:`in_ack` answer in the request's thread."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._listener_runner = InlineRunner.taking_over(self._listener_runner)
