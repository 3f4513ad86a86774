"""An RQ worker for tests that start real worker processes in burst mode."""

from rq import Worker


class BurstWorker(Worker):
    """A Worker without the pub/sub channel for remote commands (stop, kill the horse).

    Tests never send those, and stopping that channel's thread can keep a burst worker from exiting
    for up to a minute (redis-py waits its full 60 s sleep for a subscription that was just dropped).
    """

    def subscribe(self):
        pass

    def unsubscribe(self):
        pass
