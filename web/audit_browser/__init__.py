"""The audit trail browser: the events of the user's teams, filtered, newest first, paged by keyset,
exported as streamed CSV or JSON, and the result of the last chain verification.

Pages never walk the chain (millions of rows): a periodic job and `manage.py verify_audit` record
each walk as an AuditVerification row and the page shows the latest. Every page query is bounded
(one index range per filter, see the indexes on AuditEvent), so a page costs the same with ten
events or two million.

filters.py: the filter form and the events it selects; paging.py: keyset pages; rows.py: the rows as
HTML; export.py: CSV and JSON exports. The app picker is web/app_picker.py (analytics uses it too);
the verification shown is releases.audit_verification.chain_status.
"""
