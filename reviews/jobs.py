"""RQ entry points for following WeChat reviews: load by id, call one service."""


def poll_release(release_id: int) -> str:
    """One poll of a submitted release; it schedules the next one itself (reviews.polling)."""
    from reviews.polling import review_poll

    return review_poll(release_id)


def sweep_reviews() -> int:
    """Periodic (config/cron.py): re-poll watches whose scheduled job was lost, start missing ones."""
    from reviews.polling import review_sweep

    return review_sweep()
