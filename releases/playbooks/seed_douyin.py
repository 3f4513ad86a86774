"""Douyin's own playbooks (issue 16): the categories where fixing a Douyin rejection is done in
Douyin's words and places (douyin.md §3.4-§3.6). A rejection names its reasons per host app
(`reason_detail`, keyed by 抖音, 今日头条…), attaches evidence per host (`attach_info`), takes no
screenshots, and the only note that reaches the reviewer is `audit_note` (200 characters, which
also carries the test account). Categories without an entry here use every platform's playbook.

Data, seeded by `seed_playbooks()` like the others, and edited afterwards as new versions.
"""

from django.utils.translation import gettext_noop

from releases.models import RejectionCategory

C = RejectionCategory

PLATFORM = "douyin"

HOSTS = {
    "key": "douyin.hosts",
    "title": gettext_noop("Read the reason for each host app"),
    "description": gettext_noop(
        "Douyin reviews per host app: the rejection lists its reasons under each one (抖音, 今日头条…) "
        "with the evidence it attached. A host left out of the next submission hides the app there."
    ),
    "evidence": gettext_noop("The host apps that rejected it, and their reasons."),
}

AUDIT_NOTE = {
    "key": "explain_to_reviewer",
    "title": gettext_noop("Write the fix and the test account in the audit note"),
    "description": gettext_noop(
        "Douyin's reviewer reads only the audit note (audit_note, at most 200 characters): say what "
        "was fixed and give the test account and password there, since there is no other field."
    ),
    "required": False,
    "evidence": gettext_noop("The audit note itself, at most 200 characters."),
}

QUALIFICATION_UPLOAD = {
    "key": "douyin.qualification.upload",
    "title": gettext_noop("Upload the qualification for the category in the Douyin console"),
    "description": gettext_noop(
        "The licence the category needs, valid and issued to the app's entity; until it "
        "passes, resubmitting gets the same rejection."
    ),
    "check_key": "qualifications",
    "evidence": gettext_noop("The qualification uploaded and its validity."),
}

SEED: dict[str, tuple[str, list[dict]]] = {
    C.PRIVACY_POLICY: (
        gettext_noop("Douyin: privacy policy incomplete"),
        [
            HOSTS,
            {
                "key": "douyin.privacy.guideline",
                "title": gettext_noop("Update the user privacy protection guidelines in the Douyin console"),
                "description": gettext_noop(
                    "Declare every user information the code reads (phone number, location, album, "
                    "camera, microphone) and why; the reviewer compares them with the package."
                ),
                "check_key": "privacy_policy",
                "evidence": gettext_noop("The information now declared and the date of the update."),
            },
            {
                "key": "privacy_policy.reachable",
                "title": gettext_noop("Make the policy reachable at any time inside the app"),
                "evidence": gettext_noop("Where the link is and that it opens."),
            },
            AUDIT_NOTE,
        ],
    ),
    C.CATEGORY_MISMATCH: (
        gettext_noop("Douyin: features do not match the service category"),
        [
            HOSTS,
            {
                "key": "douyin.category.compare",
                "title": gettext_noop(
                    "Compare the features with the service category chosen in the Douyin console"
                ),
                "description": gettext_noop(
                    "Add the missing core features or apply for the category that fits; a new category "
                    "has its own review in the console before the version can pass."
                ),
                "check_key": "category_features",
                "evidence": gettext_noop("The category and the pages that show its core features."),
            },
            AUDIT_NOTE,
        ],
    ),
    C.WRONG_CATEGORY: (
        gettext_noop("Douyin: the service category does not fit"),
        [
            HOSTS,
            {
                "key": "douyin.category.change",
                "title": gettext_noop("Change the service category in the Douyin console"),
                "description": gettext_noop(
                    "Choose the category that matches what the app does, within the entity's business "
                    "scope; the change is reviewed in the console before the version can pass."
                ),
                "check_key": "category_features",
                "evidence": gettext_noop("Old and new category."),
            },
            {**QUALIFICATION_UPLOAD, "required": False},
            AUDIT_NOTE,
        ],
    ),
    C.QUALIFICATION: (
        gettext_noop("Douyin: qualification missing"),
        [HOSTS, QUALIFICATION_UPLOAD, AUDIT_NOTE],
    ),
    C.OTHER: (
        gettext_noop("Douyin: other reasons"),
        [
            HOSTS,
            {
                "key": "other.fix",
                "title": gettext_noop(
                    "Follow the modification guide the rejection links, then fix the cause"
                ),
                "evidence": gettext_noop("What was changed, and where."),
            },
            AUDIT_NOTE,
        ],
    ),
}
