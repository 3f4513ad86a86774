from django.urls import path

from web import (
    account_pages,
    app_changes,
    app_pages,
    audit_views,
    calendar_page,
    campaign_pages,
    demo_pages,
    fleet_pages,
    group_pages,
    language,
    live,
    notification_pages,
    overview,
    ping,
    policy_pages,
    release_changes,
    release_list,
    release_pages,
    rollout_pages,
    team_pages,
    token_pages,
)

app_name = "web"
urlpatterns: list = [
    path("apps/", app_pages.app_list, name="app-list"),
    path("apps/new", account_pages.app_create, name="app-create"),
    path("apps/<int:app_id>/", app_pages.app_detail, name="app-detail"),
    path("apps/<int:app_id>/settings", app_changes.app_settings, name="app-settings"),
    path("apps/<int:app_id>/suppressions", app_changes.suppression_create, name="suppression-create"),
    path(
        "apps/<int:app_id>/suppressions/<int:suppression_id>/remove",
        app_changes.suppression_remove,
        name="suppression-remove",
    ),
    path("apps/<int:app_id>/qualifications", app_changes.qualification_create, name="qualification-create"),
    path(
        "apps/<int:app_id>/qualifications/<int:qualification_id>/remove",
        app_changes.qualification_remove,
        name="qualification-remove",
    ),
    path("apps/<int:app_id>/checklist", app_changes.checklist_update, name="checklist-update"),
    path(
        "apps/<int:app_id>/approval-policy", app_changes.approval_policy_update, name="approval-policy-update"
    ),
    path(
        "apps/<int:app_id>/members/<int:membership_id>/capacities",
        app_changes.member_capacities_update,
        name="member-capacities-update",
    ),
    path("apps/<int:app_id>/releases/new", release_changes.release_create, name="release-create"),
    path("releases/<int:release_id>/", release_pages.release_detail, name="release-detail"),
    path("release-groups/new", group_pages.release_group_create_page, name="release-group-create"),
    path("release-groups/<int:group_id>/", group_pages.release_group_detail, name="release-group"),
    path(
        "release-groups/<int:group_id>/<str:action>",
        group_pages.release_group_action,
        name="release-group-action",
    ),
    path("releases/<int:release_id>/edit", release_changes.release_edit, name="release-edit"),
    path(
        "releases/<int:release_id>/checks.json",
        release_pages.release_check_status,
        name="release-check-status",
    ),
    path(
        "releases/<int:release_id>/checks/<slug:key>/confirm",
        release_changes.release_confirm,
        name="release-confirm",
    ),
    path(
        "releases/<int:release_id>/actions/<slug:name>", release_changes.release_action, name="release-action"
    ),
    path(
        "releases/<int:release_id>/confirm/<slug:name>",
        rollout_pages.release_confirm_action,
        name="release-confirm-action",
    ),
    path("calendar/", calendar_page.calendar, name="calendar"),
    path("teams/<int:team_id>/publish-policy/", policy_pages.team_policy, name="team-publish-policy"),
    path("apps/<int:app_id>/publish-policy/", policy_pages.app_policy, name="app-publish-policy"),
    path("campaigns/", campaign_pages.campaign_list, name="campaign-list"),
    path("campaigns/new", campaign_pages.campaign_create, name="campaign-create"),
    path("campaigns/<int:campaign_id>/", campaign_pages.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:campaign_id>/live", campaign_pages.campaign_live, name="campaign-live"),
    path(
        "campaigns/<int:campaign_id>/apps/<int:app_id>/qr-code",
        campaign_pages.campaign_qr_code,
        name="campaign-qr-code",
    ),
    path(
        "campaigns/<int:campaign_id>/groups/<str:key>/<str:action>",
        campaign_pages.campaign_group_action,
        name="campaign-group-action",
    ),
    path("campaigns/<int:campaign_id>/<str:action>", campaign_pages.campaign_action, name="campaign-action"),
    path("apps/<int:app_id>/service", rollout_pages.app_service, name="app-service"),
    path("apps/<int:app_id>/service/confirm", rollout_pages.app_service_confirm, name="app-service-confirm"),
    path("demo/privacy-policy/", demo_pages.demo_privacy_policy, name="demo-privacy-policy"),
    path(
        "demo/privacy-policy/no-location/",
        demo_pages.demo_privacy_policy,
        {"variant": "no-location"},
        name="demo-privacy-policy-no-location",
    ),
    # the overview (issue 6): home page, every release filtered, what open pages poll
    path("", overview.dashboard, name="dashboard"),
    path("releases/", release_list.release_list, name="release-list"),
    path("releases/<int:release_id>/live", live.release_live, name="release-live"),
    path("live/overview", live.overview_live, name="overview-live"),
    # the audit trail browser (issue 6): filters, keyset pages, streamed exports, chain status
    path("audit/", audit_views.audit_list, name="audit"),
    path("audit/export.<slug:fmt>", audit_views.audit_export, name="audit-export"),
    # the benchmark's baseline (issue 6): a trivial logged-in page, see bench/pages.py
    path("ping/", ping.ping, name="ping"),
    # notifications (issue 13): channels, their delivery log, a person's own preferences
    path("notifications/", notification_pages.channel_list, name="notifications"),
    path("notifications/channels/new", notification_pages.channel_create, name="notification-channel-create"),
    path(
        "notifications/channels/<int:channel_id>/",
        notification_pages.channel_detail,
        name="notification-channel",
    ),
    path(
        "notifications/channels/<int:channel_id>/edit",
        notification_pages.channel_edit,
        name="notification-channel-edit",
    ),
    path(
        "notifications/channels/<int:channel_id>/test",
        notification_pages.channel_test,
        name="notification-channel-test",
    ),
    path(
        "notifications/channels/<int:channel_id>/delete",
        notification_pages.channel_delete,
        name="notification-channel-delete",
    ),
    path(
        "notifications/channels/<int:channel_id>/deliveries/<int:delivery_id>/redeliver",
        notification_pages.delivery_redeliver,
        name="notification-redeliver",
    ),
    path("notifications/preferences", notification_pages.preferences, name="notification-preferences"),
    # onboarding in pages (issue 15): the team, its members and accounts, apps, API tokens
    path("team/", team_pages.my_team, name="my-team"),
    path("teams/<int:team_id>/", team_pages.team_page, name="team"),
    path("teams/<int:team_id>/members", team_pages.member_add, name="member-add"),
    path("teams/<int:team_id>/members/<int:user_id>/role", team_pages.member_role, name="member-role"),
    path("teams/<int:team_id>/members/<int:user_id>/remove", team_pages.member_remove, name="member-remove"),
    path("teams/<int:team_id>/accounts/new", account_pages.account_create, name="account-create"),
    path("accounts/<int:account_id>/", account_pages.account_edit, name="account"),
    path("accounts/<int:account_id>/test", account_pages.account_test, name="account-test"),
    # fleets (issue 14): authorization links, the authorizer import, the template library, tags
    path(
        "accounts/<int:account_id>/authorization-link",
        fleet_pages.authorization_link,
        name="account-authorization-link",
    ),
    path("accounts/<int:account_id>/authorized", fleet_pages.authorized, name="account-authorized"),
    path("accounts/<int:account_id>/import", fleet_pages.import_authorizers, name="account-import"),
    path("accounts/<int:account_id>/templates", fleet_pages.templates_page, name="account-templates"),
    path(
        "accounts/<int:account_id>/templates/sync", fleet_pages.templates_sync, name="account-templates-sync"
    ),
    path("accounts/<int:account_id>/templates/add", fleet_pages.template_add, name="account-template-add"),
    path(
        "accounts/<int:account_id>/templates/<int:template_id>/delete",
        fleet_pages.template_delete,
        name="account-template-delete",
    ),
    path("apps/<int:app_id>/tags", fleet_pages.app_tags, name="app-tags"),
    path("me/tokens/", token_pages.token_list, name="tokens"),
    path("me/tokens/<int:token_id>/revoke", token_pages.token_revoke, name="token-revoke"),
    # the language switcher in the top bar (issue 6)
    path("language", language.switch_language, name="language"),
]
