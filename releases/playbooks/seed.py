"""The starting library, from the domain's table of rejection causes and remedies
(seed 000: category mismatch, privacy policy, performance; seed 001: qualification, wrong
category, image violation, abnormal price) plus the rest of the categories.

`seed_playbooks()` is idempotent: a playbook that already exists is left alone, so an admin's
edits (newer versions) are never overwritten.
"""

from django.db import transaction
from django.utils.translation import gettext_noop

from releases.models import Playbook, RejectionCategory
from releases.playbooks import seed_douyin
from releases.playbooks.library import playbook_publish

C = RejectionCategory

EXPLAIN = {
    "key": "explain_to_reviewer",
    "title": gettext_noop("Explain the fix to the reviewer"),
    "description": gettext_noop(
        "Sent to the reviewer with the resubmission: WeChat's feedback_info (allowed only after a "
        "rejection), Douyin's audit_note."
    ),
    "required": False,
    "evidence": gettext_noop("The explanation itself, at most 200 characters."),
}

SEED: dict[str, tuple[str, list[dict]]] = {
    C.CATEGORY_MISMATCH: (
        gettext_noop("Features do not match the service category"),
        [
            {
                "key": "category_mismatch.compare",
                "title": gettext_noop("Compare the features with the selected category"),
                "description": (
                    gettext_noop(
                        "An e-commerce category needs goods and ordering, not only information; "
                        "a tool may not hold live-stream tipping."
                    )
                ),
                "check_key": "category_features",
                "evidence": gettext_noop("The category and the pages that show its core features."),
            },
            {
                "key": "category_mismatch.align",
                "title": gettext_noop("Align the features or change the category"),
                "description": gettext_noop(
                    "Add the missing core features, remove the ones outside the category, or "
                    "apply for the category that fits."
                ),
                "evidence": gettext_noop("What changed: features added or removed, or the new category."),
            },
            {
                "key": "category_mismatch.page_tags",
                "title": gettext_noop("Fix the page tags of the submission"),
                "description": gettext_noop(
                    "Each page's tags must belong to its category and describe the page."
                ),
                "required": False,
                "evidence": gettext_noop("The corrected pages and tags."),
            },
            EXPLAIN,
        ],
    ),
    C.PRIVACY_POLICY: (
        gettext_noop("Privacy policy incomplete"),
        [
            {
                "key": "privacy_policy.permissions",
                "title": gettext_noop("Explain every permission in the privacy policy"),
                "description": gettext_noop(
                    "Add what is missing, e.g. why the phone number is collected (account login), "
                    "location, camera, album, microphone."
                ),
                "check_key": "privacy_policy",
                "evidence": gettext_noop("The permissions now explained and the policy section or link."),
            },
            {
                "key": "privacy_policy.reachable",
                "title": gettext_noop("Make the policy reachable at any time inside the app"),
                "evidence": gettext_noop("Where the link is and that it opens."),
            },
            {
                "key": "privacy_policy.guideline",
                "title": gettext_noop("Update the user-privacy guideline on the platform"),
                "description": gettext_noop(
                    "WeChat: setprivacysetting; it takes effect with the next submission."
                ),
                "required": False,
                "evidence": gettext_noop("The date it was updated."),
            },
            EXPLAIN,
        ],
    ),
    C.PERFORMANCE: (
        gettext_noop("Too slow"),
        [
            {
                "key": "performance.subpackages",
                "title": gettext_noop("Split the code into subpackages of at most 2 MB"),
                "check_key": "package_size",
                "evidence": gettext_noop("The package sizes from the new build report."),
            },
            {
                "key": "performance.requests",
                "title": gettext_noop("Cut redundant requests and heavy assets on the first screen"),
                "description": gettext_noop(
                    "Compress images, cache static resources, lazy-load below the fold."
                ),
                "check_key": "first_screen",
                "evidence": gettext_noop("The first-screen time measured, and on which device."),
            },
            {
                "key": "performance.cdn",
                "title": gettext_noop("Serve static assets from a CDN"),
                "required": False,
                "evidence": gettext_noop("The CDN domain used."),
            },
            EXPLAIN,
        ],
    ),
    C.QUALIFICATION: (
        gettext_noop("Qualification missing, mismatched or expired"),
        [
            {
                "key": "qualification.verify",
                "title": gettext_noop("Check the qualifications the category requires"),
                "description": (
                    gettext_noop(
                        "Business licence scope, industry licences (e.g. 电信业务经营许可证 "
                        "for virtual goods), validity dates."
                    )
                ),
                "check_key": "qualifications",
                "evidence": gettext_noop("The licence covering the category, its number and expiry date."),
            },
            {
                "key": "qualification.upload",
                "title": gettext_noop("Upload or renew the qualification on the platform"),
                "evidence": gettext_noop("When it was uploaded and the platform's confirmation."),
            },
            EXPLAIN,
        ],
    ),
    C.WRONG_CATEGORY: (
        gettext_noop("Placed in the wrong category"),
        [
            {
                "key": "wrong_category.move",
                "title": gettext_noop("Move the items to the correct category"),
                "description": gettext_noop(
                    "Use the platform's category lookup; the category must be within the business "
                    "licence's scope."
                ),
                "check_key": "category_features",
                "evidence": gettext_noop("Old and new category of each item."),
            },
            {
                "key": "qualification.verify",
                "title": gettext_noop("Check the qualifications the category requires"),
                "check_key": "qualifications",
                "evidence": gettext_noop("The licence covering the category, its number and expiry date."),
            },
            EXPLAIN,
        ],
    ),
    C.IMAGE_VIOLATION: (
        gettext_noop("Image violation"),
        [
            {
                "key": "image_violation.replace",
                "title": gettext_noop("Replace the offending images"),
                "description": gettext_noop("The rejection's screenshots show which ones."),
                "evidence": gettext_noop("Which images were replaced."),
            },
            {
                "key": "image_violation.review_all",
                "title": gettext_noop("Review every image for watermarks, infringement and vulgar content"),
                "evidence": gettext_noop("Who reviewed the images and when."),
            },
            EXPLAIN,
        ],
    ),
    C.ABNORMAL_PRICE: (
        gettext_noop("Abnormal price"),
        [
            {
                "key": "abnormal_price.correct",
                "title": gettext_noop("Correct the prices"),
                "description": (
                    gettext_noop(
                        "No placeholder or absurd prices; a struck-through price must be a real earlier price."  # noqa: E501
                    )
                ),
                "evidence": gettext_noop("The items and their corrected prices."),
            },
            {
                "key": "abnormal_price.consistency",
                "title": gettext_noop("Check that list, detail and order pages show the same price"),
                "required": False,
                "evidence": gettext_noop("The pages compared."),
            },
            EXPLAIN,
        ],
    ),
    C.CONTENT_OR_INDUCED_SHARING: (
        gettext_noop("Content or induced sharing"),
        [
            {
                "key": "content.induced_sharing",
                "title": gettext_noop("Remove forced or induced sharing"),
                "description": gettext_noop("No “share to unlock”, no 砍一刀, no rewards for forwarding."),
                "check_key": "induced_sharing",
                "evidence": gettext_noop("The flows changed."),
            },
            {
                "key": "content.ad_law",
                "title": gettext_noop("Remove absolute claims and false advertising"),
                "description": (
                    gettext_noop(
                        "No 国家级, 最高级, 第一, 100%; comparison images labelled; no infringing content."
                    )
                ),
                "check_key": "ad_law_claims",
                "evidence": gettext_noop("The texts changed."),
            },
            EXPLAIN,
        ],
    ),
    C.ACCOUNT_INFORMATION: (
        gettext_noop("Account information (name, avatar, description)"),
        [
            {
                "key": "account_information.fix",
                "title": gettext_noop("Fix the name, avatar or description in the platform console"),
                "evidence": gettext_noop("The new name, avatar or description and when it was changed."),
            },
            EXPLAIN,
        ],
    ),
    C.FUNCTIONAL_BUG: (
        gettext_noop("Functional bug"),
        [
            {
                "key": "functional_bug.fix",
                "title": gettext_noop("Reproduce the reviewer's path and fix the bug"),
                "evidence": gettext_noop(
                    "The fix (commit or ticket) and the device and WeChat version used."
                ),
            },
            {
                "key": "functional_bug.core_flows",
                "title": gettext_noop("Test the core flows on iOS, Android and the newest WeChat"),
                "description": gettext_noop("Payment, login and the key paths; signed off by a person."),
                "evidence": gettext_noop("Who tested, on which devices."),
            },
            {
                "key": "functional_bug.test_account",
                "title": gettext_noop("Give the reviewer a test account in the review notes"),
                "required": False,
                "check_key": "review_notes",
                "evidence": gettext_noop("Where in the review notes."),
            },
            EXPLAIN,
        ],
    ),
    C.OTHER: (
        gettext_noop("Other reasons"),
        [
            {
                "key": "other.fix",
                "title": gettext_noop("Read the reason and the screenshots, then fix the cause"),
                "evidence": gettext_noop("What was changed, and where."),
            },
            EXPLAIN,
        ],
    ),
}


def seed_playbooks() -> list[str]:
    """Create the missing playbooks (version 1): every platform's, then each platform's own
    (releases/playbooks/seed_douyin.py). Returns the categories created ("douyin:privacy_policy"
    for a platform's own)."""
    created = []
    with transaction.atomic():
        for platform, seed in (("", SEED), (seed_douyin.PLATFORM, seed_douyin.SEED)):
            for category, (title, steps) in seed.items():
                if Playbook.objects.filter(category=category, platform=platform).exists():
                    continue
                playbook = Playbook.objects.create(category=category, platform=platform, title=title)
                playbook_publish(playbook, steps=steps, actor=None, note="Seeded from the domain notes.")
                created.append(f"{platform}:{category}" if platform else str(category))
    return created
