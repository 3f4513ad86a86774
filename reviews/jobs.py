"""RQ entry points for following WeChat reviews and their pushes: load by id, call one service."""


def poll_release(release_id: int) -> str:
    """One poll of a submitted release; it schedules the next one itself (reviews.polling)."""
    from reviews.polling import review_poll

    return review_poll(release_id)


def sweep_reviews() -> int:
    """Periodic (config/cron.py): re-poll watches whose scheduled job was lost, start missing ones."""
    from reviews.polling import review_sweep

    return review_sweep()


def learn_original_id(app_id: int) -> str | None:
    """The app's original ID from WeChat, once it is added or authorized (reviews.original_ids).

    Not retried: if WeChat cannot answer now, the app's first push asks again.
    """
    from releases.models import App
    from reviews.original_ids import app_original_id

    app = App.objects.select_related("platform_account").filter(pk=app_id).first()
    return None if app is None else app_original_id(app)


def summarise_refusals() -> int:
    """Periodic (config/cron.py): one audit event per account for each closed minute of refusals."""
    from reviews.refusals import callback_refusals_summarise

    return callback_refusals_summarise()


def exchange_authorization(account_id: int, encrypted_code: str) -> int | None:
    """An `authorized` / `updateauthorized` push: api_query_auth and api_get_authorizer_info, then
    the app is created or updated (reviews.authorizations). A transient failure raises, so RQ
    retries; a permanent one (the code expired or was used) is logged: the import finds the app."""
    import logging

    from releases.crypto import decrypt
    from releases.models import PlatformAccount
    from releases.platforms import PlatformError
    from reviews.authorizations import authorization_exchange

    account = PlatformAccount.objects.filter(pk=account_id).first()
    if account is None:
        return None
    try:
        app = authorization_exchange(
            account=account, authorization_code=decrypt(encrypted_code), source="push"
        )
    except PlatformError as exc:
        if not exc.permanent:
            raise
        logging.getLogger(__name__).warning(
            "Could not exchange an authorization code for account %s: %s", account_id, exc.message
        )
        return None
    return app.pk


def import_authorizers(account_id: int) -> dict | None:
    """The account page's "import every existing authorizer" (idempotent: a second run updates)."""
    from releases.models import PlatformAccount
    from reviews.authorizations import authorizers_import

    account = PlatformAccount.objects.filter(pk=account_id).first()
    return None if account is None else authorizers_import(account=account)


def fetch_screenshots(rejection_id: int) -> int:
    """A rejection's screenshots as pictures, best effort (reviews.screenshots); never raises for a
    failed picture: its row records why and a later attempt is queued."""
    from reviews.screenshots import screenshots_fetch

    return screenshots_fetch(rejection_id)


def sweep_screenshots() -> int:
    """Periodic (config/cron.py): queue the screenshots whose fetch is due or was never queued."""
    from reviews.screenshots import screenshots_sweep

    return screenshots_sweep()
