"""The starting library, from the domain's table of rejection causes and remedies
(seed 000: category mismatch, privacy policy, performance; seed 001: qualification, wrong
category, image violation, abnormal price) plus the rest of the categories.

`seed_playbooks()` is idempotent: a playbook that already exists is left alone, so an admin's
edits (newer versions) are never overwritten.
"""

from django.db import transaction

from releases.models import Playbook, RejectionCategory
from releases.playbooks.library import playbook_publish

C = RejectionCategory

EXPLAIN = {
    "key": "explain_to_reviewer",
    "title": "Explain the fix to the reviewer",
    "description": "Sent with the resubmission as WeChat's feedback_info (allowed only after a rejection).",
    "required": False,
    "evidence": "The explanation itself, at most 200 characters.",
}

SEED: dict[str, tuple[str, list[dict]]] = {
    C.CATEGORY_MISMATCH: (
        "Features do not match the service category",
        [
            {
                "key": "category_mismatch.compare",
                "title": "Compare the features with the selected category",
                "description": (
                    "An e-commerce category needs goods and ordering, not only information; "
                    "a tool may not hold live-stream tipping."
                ),
                "check_key": "category_features",
                "evidence": "The category and the pages that show its core features.",
            },
            {
                "key": "category_mismatch.align",
                "title": "Align the features or change the category",
                "description": "Add the missing core features, remove the ones outside the category, or "
                "apply for the category that fits.",
                "evidence": "What changed: features added or removed, or the new category.",
            },
            {
                "key": "category_mismatch.page_tags",
                "title": "Fix the page tags of the submission",
                "description": "Each page's tags must belong to its category and describe the page.",
                "required": False,
                "evidence": "The corrected pages and tags.",
            },
            EXPLAIN,
        ],
    ),
    C.PRIVACY_POLICY: (
        "Privacy policy incomplete",
        [
            {
                "key": "privacy_policy.permissions",
                "title": "Explain every permission in the privacy policy",
                "description": "Add what is missing, e.g. why the phone number is collected (account login), "
                "location, camera, album, microphone.",
                "check_key": "privacy_policy",
                "evidence": "The permissions now explained and the policy section or link.",
            },
            {
                "key": "privacy_policy.reachable",
                "title": "Make the policy reachable at any time inside the app",
                "evidence": "Where the link is and that it opens.",
            },
            {
                "key": "privacy_policy.guideline",
                "title": "Update the user-privacy guideline on the platform",
                "description": "WeChat: setprivacysetting; it takes effect with the next submission.",
                "required": False,
                "evidence": "The date it was updated.",
            },
            EXPLAIN,
        ],
    ),
    C.PERFORMANCE: (
        "Too slow",
        [
            {
                "key": "performance.subpackages",
                "title": "Split the code into subpackages of at most 2 MB",
                "check_key": "package_size",
                "evidence": "The package sizes from the new build report.",
            },
            {
                "key": "performance.requests",
                "title": "Cut redundant requests and heavy assets on the first screen",
                "description": "Compress images, cache static resources, lazy-load below the fold.",
                "check_key": "first_screen",
                "evidence": "The first-screen time measured, and on which device.",
            },
            {
                "key": "performance.cdn",
                "title": "Serve static assets from a CDN",
                "required": False,
                "evidence": "The CDN domain used.",
            },
            EXPLAIN,
        ],
    ),
    C.QUALIFICATION: (
        "Qualification missing, mismatched or expired",
        [
            {
                "key": "qualification.verify",
                "title": "Check the qualifications the category requires",
                "description": (
                    "Business licence scope, industry licences (e.g. 电信业务经营许可证 "
                    "for virtual goods), validity dates."
                ),
                "check_key": "qualifications",
                "evidence": "The licence covering the category, its number and expiry date.",
            },
            {
                "key": "qualification.upload",
                "title": "Upload or renew the qualification on the platform",
                "evidence": "When it was uploaded and the platform's confirmation.",
            },
            EXPLAIN,
        ],
    ),
    C.WRONG_CATEGORY: (
        "Placed in the wrong category",
        [
            {
                "key": "wrong_category.move",
                "title": "Move the items to the correct category",
                "description": "Use the platform's category lookup; the category must be within the business "
                "licence's scope.",
                "check_key": "category_features",
                "evidence": "Old and new category of each item.",
            },
            {
                "key": "qualification.verify",
                "title": "Check the qualifications the category requires",
                "check_key": "qualifications",
                "evidence": "The licence covering the category, its number and expiry date.",
            },
            EXPLAIN,
        ],
    ),
    C.IMAGE_VIOLATION: (
        "Image violation",
        [
            {
                "key": "image_violation.replace",
                "title": "Replace the offending images",
                "description": "The rejection's screenshots show which ones.",
                "evidence": "Which images were replaced.",
            },
            {
                "key": "image_violation.review_all",
                "title": "Review every image for watermarks, infringement and vulgar content",
                "evidence": "Who reviewed the images and when.",
            },
            EXPLAIN,
        ],
    ),
    C.ABNORMAL_PRICE: (
        "Abnormal price",
        [
            {
                "key": "abnormal_price.correct",
                "title": "Correct the prices",
                "description": (
                    "No placeholder or absurd prices; a struck-through price must be a real earlier price."
                ),
                "evidence": "The items and their corrected prices.",
            },
            {
                "key": "abnormal_price.consistency",
                "title": "Check that list, detail and order pages show the same price",
                "required": False,
                "evidence": "The pages compared.",
            },
            EXPLAIN,
        ],
    ),
    C.CONTENT_OR_INDUCED_SHARING: (
        "Content or induced sharing",
        [
            {
                "key": "content.induced_sharing",
                "title": "Remove forced or induced sharing",
                "description": "No “share to unlock”, no 砍一刀, no rewards for forwarding.",
                "check_key": "induced_sharing",
                "evidence": "The flows changed.",
            },
            {
                "key": "content.ad_law",
                "title": "Remove absolute claims and false advertising",
                "description": (
                    "No 国家级, 最高级, 第一, 100%; comparison images labelled; no infringing content."
                ),
                "check_key": "ad_law_claims",
                "evidence": "The texts changed.",
            },
            EXPLAIN,
        ],
    ),
    C.ACCOUNT_INFORMATION: (
        "Account information (name, avatar, description)",
        [
            {
                "key": "account_information.fix",
                "title": "Fix the name, avatar or description in the platform console",
                "evidence": "The new name, avatar or description and when it was changed.",
            },
            EXPLAIN,
        ],
    ),
    C.FUNCTIONAL_BUG: (
        "Functional bug",
        [
            {
                "key": "functional_bug.fix",
                "title": "Reproduce the reviewer's path and fix the bug",
                "evidence": "The fix (commit or ticket) and the device and WeChat version used.",
            },
            {
                "key": "functional_bug.core_flows",
                "title": "Test the core flows on iOS, Android and the newest WeChat",
                "description": "Payment, login and the key paths; signed off by a person.",
                "evidence": "Who tested, on which devices.",
            },
            {
                "key": "functional_bug.test_account",
                "title": "Give the reviewer a test account in the review notes",
                "required": False,
                "check_key": "review_notes",
                "evidence": "Where in the review notes.",
            },
            EXPLAIN,
        ],
    ),
    C.OTHER: (
        "Other reasons",
        [
            {
                "key": "other.fix",
                "title": "Read the reason and the screenshots, then fix the cause",
                "evidence": "What was changed, and where.",
            },
            EXPLAIN,
        ],
    ),
}


def seed_playbooks() -> list[str]:
    """Create the missing playbooks (version 1). Returns the categories created."""
    created = []
    with transaction.atomic():
        for category, (title, steps) in SEED.items():
            if Playbook.objects.filter(category=category).exists():
                continue
            playbook = Playbook.objects.create(category=category, title=title)
            playbook_publish(playbook, steps=steps, actor=None, note="Seeded from the domain notes.")
            created.append(str(category))
    return created
