"""The RQ workers Sluice runs: RQ's own, with a command listener that lets go within a second.

RQ listens for commands (stop-job, shutdown) on a pubsub channel in a thread that blocks up to
60 s per read, and redis-py (8.2 on) waits for that thread when the worker stops: a burst worker
or a Ctrl-C then hung for up to a minute. Reading in one-second slices keeps every stop prompt, for
one cheap blocking read a second. `RQ["WORKER_CLASS"]` in settings makes `manage.py rqworker` use it.
"""

from rq import SimpleWorker as RQSimpleWorker
from rq import Worker as RQWorker

COMMAND_READ_SECONDS = 1


class _PromptCommands:
    def subscribe(self):
        """RQ's subscribe, with a short read so the listener thread notices a stop at once."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=COMMAND_READ_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler
        )


class Worker(_PromptCommands, RQWorker):
    """The forking worker of `manage.py rqworker` (each job in its own work horse)."""


class SimpleWorker(_PromptCommands, RQSimpleWorker):
    """Runs jobs in its own process: what the tests drain queues with."""
