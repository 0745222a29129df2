"""The role matrix of the README ("Who may do what"), cell by cell: every admin endpoint and
method × admin / manager / operator, on the user's own unit. The expected roles are written
here by hand (not read from the decorators), so a route that grants or loses a role breaks
this test and the README must be updated with it."""
from __future__ import annotations

import pytest

from tests.factories import login
from tests.test_admin_access import _admin_rules, _url, world  # noqa: F401  (the access walk's world)

A, M, OP = "admin", "manager", "operator"
ALL = (A, M, OP)
USERNAMES = {A: "admin", M: "manajer", OP: "operator"}

# (endpoint, method): roles allowed. Keep in step with the README table.
MATRIX: dict[tuple[str, str], tuple[str, ...]] = {
    # home, own password
    ("admin.index", "GET"): ALL,
    ("admin.change_password", "GET"): ALL,
    ("admin.change_password", "POST"): ALL,
    # accounts
    ("admin.accounts", "GET"): (A,),
    ("admin.account_new", "GET"): (A,),
    ("admin.account_new", "POST"): (A,),
    ("admin.account_edit", "GET"): (A,),
    ("admin.account_edit", "POST"): (A,),
    # units: list for all, creating and settings for admins
    ("admin.units", "GET"): ALL,
    ("admin.units", "POST"): (A,),
    ("admin.unit_settings", "GET"): (A,),
    ("admin.unit_settings", "POST"): (A,),
    ("admin.unit_logo", "GET"): ALL,
    ("admin.unit_logo_upload", "POST"): (A,),
    ("admin.unit_services", "GET"): (A,),
    ("admin.unit_services", "POST"): (A,),
    ("admin.unit_service_retire", "POST"): (A,),
    ("admin.unit_questionnaire", "GET"): (A,),
    ("admin.unit_questionnaire", "POST"): (A,),
    ("admin.unit_alert_rule", "GET"): (A,),
    ("admin.unit_alert_rule", "POST"): (A,),
    ("admin.unit_signature", "GET"): (A, M),
    ("admin.unit_signature", "POST"): (A, M),
    ("admin.unit_pin", "GET"): (A, OP),
    ("admin.unit_pin", "POST"): (A, OP),
    # tablets
    ("admin.devices_home", "GET"): (A,),
    ("admin.devices", "GET"): (A,),
    ("admin.devices", "POST"): (A,),
    ("admin.revoke_device", "POST"): (A,),
    # periods: creating and reopening for admins; population and closing for managers too
    ("admin.periods", "GET"): (A, M),
    ("admin.periods", "POST"): (A,),
    ("admin.period_detail", "GET"): (A, M),
    ("admin.period_population", "POST"): (A, M),
    ("admin.period_close", "POST"): (A, M),
    ("admin.period_reopen", "POST"): (A,),
    # results dashboard and alerts
    ("admin.results", "GET"): (A, M),
    ("admin.results_sheet", "GET"): (A, M),
    ("admin.results_suggestions", "GET"): (A, M),
    ("admin.results_trend", "GET"): (A, M),
    ("admin.results_compare", "GET"): (A, M),
    ("admin.results_heatmap", "GET"): (A, M),
    ("admin.results_flagged", "GET"): (A, M),
    ("admin.results_flagged", "POST"): (A, M),
    ("admin.alerts", "GET"): (A, M),
    # paper entry
    ("admin.entry_index", "GET"): ALL,
    ("admin.entry_form", "GET"): ALL,
    ("admin.entry_form", "POST"): ALL,
    ("admin.entry_undo", "POST"): ALL,
    # data: exports and import for managers too
    ("admin.data_index", "GET"): (A, M),
    ("admin.data_unit", "GET"): (A, M),
    ("admin.data_questionnaire", "GET"): ALL,
    ("admin.data_template", "GET"): ALL,
    ("admin.data_export", "GET"): (A, M),
    ("admin.data_export_job", "POST"): (A, M),
    ("admin.data_import_preview", "POST"): (A, M),
    ("admin.data_import_commit", "POST"): (A, M),
    # follow-up plans: managers edit, operators read, only admins reopen a final plan
    ("admin.followup_index", "GET"): ALL,
    ("admin.followup_unit", "GET"): ALL,
    ("admin.followup_new", "GET"): (A, M),
    ("admin.followup_new", "POST"): (A, M),
    ("admin.followup_plan", "GET"): ALL,
    ("admin.followup_plan_edit", "GET"): (A, M),
    ("admin.followup_plan_edit", "POST"): (A, M),
    ("admin.followup_plan_final", "POST"): (A, M),
    ("admin.followup_plan_reopen", "POST"): (A,),
    ("admin.followup_action_add", "POST"): (A, M),
    ("admin.followup_action", "GET"): ALL,
    ("admin.followup_action_edit", "GET"): (A, M),
    ("admin.followup_action_edit", "POST"): (A, M),
    ("admin.followup_action_delete", "POST"): (A, M),
    ("admin.followup_realization", "POST"): (A, M),
    ("admin.followup_photo_add", "POST"): (A, M),
    ("admin.followup_photo_delete", "POST"): (A, M),
    ("admin.followup_photo", "GET"): ALL,
    ("admin.followup_photo_public", "POST"): (A, M),
    # publication
    ("admin.unit_publication", "GET"): (A, M),
    ("admin.unit_publication_choice", "POST"): (A, M),
    ("admin.unit_publication_withdraw", "POST"): (A, M),
    ("admin.unit_publication_republish", "POST"): (A, M),
    ("admin.unit_publication_suggestions", "GET"): (A, M),
    ("admin.unit_publication_pick", "POST"): (A, M),
    # reports
    ("admin.reports_home", "GET"): (A, M),
    ("admin.reports_unit", "GET"): (A, M),
    ("admin.reports_intro", "POST"): (A, M),
    ("admin.reports_notes", "POST"): (A, M),
    ("admin.reports_choice", "POST"): (A, M),
    ("admin.reports_download", "GET"): (A, M),
    ("admin.reports_start_job", "POST"): (A, M),
    ("admin.report_job", "GET"): (A, M),
    ("admin.report_job_download", "GET"): (A, M),
    ("admin.poster_preview", "GET"): (A, M),
    # QR & tiket survei (issue 15): every staff role of the unit prints cards and tickets
    ("admin.online_home", "GET"): ALL,
    ("admin.online_unit", "GET"): ALL,
    ("admin.online_card", "GET"): ALL,
    ("admin.online_print_batch", "POST"): ALL,
    ("admin.online_batch_pdf", "GET"): ALL,
    ("admin.online_issue_one", "POST"): ALL,
    ("admin.online_ticket", "GET"): ALL,
    ("admin.online_ticket_pdf", "GET"): ALL,
    # installation recap
    ("admin.recap", "GET"): (A,),
    ("admin.recap_xlsx_download", "GET"): (A,),
    ("admin.recap_pdf_download", "GET"): (A,),
}
NOT_IN_MATRIX = {"admin.login", "admin.logout", "admin.end_own_sessions"}  # public / any session (tests/test_admin_access.py, tests/test_trust.py)


def test_the_matrix_covers_every_admin_endpoint_and_method(app):
    served = set()
    for rule in _admin_rules(app):
        if rule.endpoint in NOT_IN_MATRIX:
            continue
        served |= {(rule.endpoint, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served - MATRIX.keys() == set(), "add these to the role matrix (and the README)"
    assert MATRIX.keys() - served == set(), "these are no longer served"


@pytest.mark.parametrize("role", ALL)
def test_role_matrix(app, world, client, role):  # noqa: F811
    """Every cell of the role's row: allowed cells answer (200 or a redirect), the others 403.
    One world per role, cells in the access walk's order (deleting routes last); a fresh world per
    cell would cost ~6 minutes. Every wrong cell is named in the failure."""
    assert login(client, USERNAMES[role]).status_code == 302
    wrong, checked = [], 0
    for rule in _admin_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in MATRIX:
                continue
            allowed = role in MATRIX[(rule.endpoint, method)]
            url = _url(app, rule, world, "own")
            response = client.get(url) if method == "GET" else client.post(url, data={})
            ok = response.status_code in (200, 302, 303) if allowed else response.status_code == 403
            if not ok:
                wrong.append((rule.endpoint, method, "allowed" if allowed else "forbidden", response.status_code))
            checked += 1
    assert wrong == []
    assert checked == len(MATRIX)
