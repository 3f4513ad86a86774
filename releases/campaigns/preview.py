"""A dry run of campaign_create (issue 14): what a few targeted apps would get (their ext.json,
release notes and review notes, rendered) and which apps would be held back (a render error, a
lost authorization), before anything is created.

It reads only: no campaign, no audit event, no platform call (the quota is not read either). The
same validation, targeting and per-app rendering as campaign_create run, so the preview cannot
disagree with the campaign it announces.
"""

from releases.campaigns.models import Campaign
from releases.campaigns.render import render_text, variables_for
from releases.campaigns.services import _entry, _targeted, _validate
from releases.models import Role
from releases.transitions import _require_role

SAMPLES = 3  # apps whose rendering is shown in full
HELD_SHOWN = 50  # held apps listed by name (all are counted)


def campaign_preview(
    *,
    account,
    actor,
    template_id: str,
    version: str,
    release_notes: str = "",
    review_notes: str = "",
    ext_json=None,
    variables=None,
    targets=None,
) -> dict:
    """{"apps": n, "samples": [{app, appid, name, ext_json, release_notes, review_notes}],
    "held": [{app, appid, name, held, error}] (the first HELD_SHOWN), "held_count": n}."""
    _require_role(actor, account.team_id, Role.DEVELOPER, "create a campaign")
    ext_json = {} if ext_json is None else ext_json
    variables = {} if variables is None else variables
    _validate(template_id, version, ext_json, variables, targets, None)
    apps = _targeted(account, targets)
    draft = Campaign(
        platform_account=account,
        ext_json=ext_json,
        variables=variables,
        release_notes=release_notes or "",
        review_notes=review_notes or "",
    )
    samples, held = [], []
    for position, app in enumerate(apps):
        entry = _entry(draft, app, position)
        about = {"app": app.pk, "appid": app.appid, "name": app.name}
        if entry.held:
            held.append({**about, "held": entry.held, "error": entry.last_error})
        elif len(samples) < SAMPLES:
            names = variables_for(app, variables)
            samples.append(
                {
                    **about,
                    "ext_json": entry.ext_json,
                    "release_notes": render_text(draft.release_notes, names),
                    "review_notes": render_text(draft.review_notes, names),
                }
            )
    return {"apps": len(apps), "samples": samples, "held": held[:HELD_SHOWN], "held_count": len(held)}
