"""A CI build's own output becomes the build report the checks read (issue 15)."""

import pytest

from releases.builds import derive_build_report, validate_build_source
from releases.checks.privacy import sensitive_uses
from releases.errors import Invalid

# miniprogram-ci's upload result as it prints it, and a project's app.json.
UPLOAD_RESULT = {
    "subPackageInfo": [
        {"name": "__FULL__", "size": 1843200},
        {"name": "__APP__", "size": 1126400},
        {"name": "/packageOrder/", "size": 716800},
    ],
    "pluginInfo": [{"pluginProvider": "wxidxxxxxxxxxxxxxx", "version": "1.0.0", "size": 12345}],
    "devPluginId": "none",
}
APP_JSON = {
    "pages": ["pages/index/index", "pages/menu/menu"],
    "subPackages": [{"root": "packageOrder/", "pages": ["pages/checkout/checkout", "pages/done/done"]}],
    "window": {"navigationBarTitleText": "Demo Cafe"},
    "permission": {"scope.userLocation": {"desc": "To find the nearest shop"}},
    "requiredPrivateInfos": ["getLocation", "chooseAddress"],
    "plugins": {"myPlugin": {"version": "1.0.0", "provider": "wxidxxxxxxxxxxxxxx"}},
}


def test_packages_come_from_sub_package_info_in_bytes():
    report = derive_build_report(UPLOAD_RESULT, None)
    assert report["packages"] == [
        {"name": "__FULL__", "size": 1843200},
        {"name": "__APP__", "size": 1126400},
        {"name": "/packageOrder/", "size": 716800},
    ]


def test_pages_include_each_subpackages_pages_under_its_root():
    report = derive_build_report(None, APP_JSON)
    assert report["pages"] == [
        "pages/index/index",
        "pages/menu/menu",
        "packageOrder/pages/checkout/checkout",
        "packageOrder/pages/done/done",
    ]
    assert report["subpackages"] == ["packageOrder"]
    assert report["plugins"] == ["wxidxxxxxxxxxxxxxx@1.0.0"]


def test_permissions_and_private_infos_reach_the_privacy_check():
    report = derive_build_report(UPLOAD_RESULT, APP_JSON)
    assert report["permissions"] == ["scope.userLocation", "getLocation", "chooseAddress"]
    topics = {topic.id: names for topic, names in sensitive_uses(report)}
    assert topics["location"] == ["scope.userLocation", "getLocation"]


def test_fields_ci_measured_besides_are_kept_and_derived_ones_win():
    report = derive_build_report(UPLOAD_RESULT, None, keep={"first_screen_ms": 900, "packages": []})
    assert report["first_screen_ms"] == 900
    assert len(report["packages"]) == 3


@pytest.mark.parametrize(
    ("upload", "app_json", "field"),
    [
        ({}, None, "miniprogram_ci.subPackageInfo"),
        ({"subPackageInfo": {"__FULL__": 1}}, None, "miniprogram_ci.subPackageInfo"),
        (
            {"subPackageInfo": [{"name": "__APP__", "size": -1}]},
            None,
            "miniprogram_ci.subPackageInfo[0].size",
        ),
        (
            {"subPackageInfo": [{"name": "__APP__", "size": "1 MB"}]},
            None,
            "miniprogram_ci.subPackageInfo[0].size",
        ),
        ({"subPackageInfo": [{"size": 1}]}, None, "miniprogram_ci.subPackageInfo[0].name"),
        ([], None, "miniprogram_ci"),
        (None, ["pages/index/index"], "app_json"),
        (None, {"pages": "pages/index/index"}, "app_json.pages"),
        (None, {"pages": ["ok", 3]}, "app_json.pages[1]"),
        (None, {"subPackages": [{"pages": ["a"]}]}, "app_json.subPackages[0].root"),
        (
            None,
            {"permission": {"scope.userLocation": "find shops"}},
            "app_json.permission.scope.userLocation",
        ),
        (None, {"requiredPrivateInfos": "getLocation"}, "app_json.requiredPrivateInfos"),
        (None, {"plugins": {"p": {"version": "1"}}}, "app_json.plugins.p"),
    ],
)
def test_a_malformed_part_is_refused_naming_its_field(upload, app_json, field):
    with pytest.raises(Invalid) as refused:
        derive_build_report(upload, app_json)
    assert refused.value.code == "invalid_build"
    assert field in refused.value.details
    assert field in refused.value.message


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ({"commit": "not-a-sha", "branch": "", "ci_url": ""}, "commit"),
        ({"commit": "", "branch": "main\nx", "ci_url": ""}, "branch"),
        ({"commit": "", "branch": "", "ci_url": "javascript:alert(1)"}, "ci_url"),
    ],
)
def test_where_the_build_came_from_is_checked(source, field):
    assert field in validate_build_source(**source)


def test_a_real_source_passes():
    assert not validate_build_source(
        commit="9fceb02d0ae598e95dc970b74767f19372d61af8",
        branch="release/1.4",
        ci_url="https://ci.example.com/demo-cafe/builds/812",
    )
