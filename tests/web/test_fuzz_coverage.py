"""Which forms the fuzz tests reach, checked (issue 13, part 5): every endpoint that accepts a POST, and every
GET whose view reads a query parameter a person can type (a search, a filter, a notice key), is named below
with the Hypothesis test that throws hostile input at it, or on the short list of those not fuzzed yet with
why. A new form, or a new filter on a page, fails here until someone decides, in review, how it is fuzzed.

(``?lang=`` is read on every page by webapp/i18n.py and fuzzed on any address by
tests/web/test_fuzz.py::test_any_address_and_language_gets_a_page.)"""

from __future__ import annotations

import importlib
import inspect

#: endpoint -> the test ("module::function" under tests/web/) that fuzzes it
FUZZED: dict[str, str] = {
    # the public forms
    "public.form": "test_fuzz_forms::test_filing_forms_store_nothing_when_refused_and_text_stays_literal",
    "public.file": "test_fuzz_forms::test_filing_forms_store_nothing_when_refused_and_text_stays_literal",
    "public.verify": "test_fuzz_forms::test_tracking_survey_and_proof_forms",
    "public.proof": "test_fuzz_more::test_receipt_and_tracking_extras",
    "public.receipt_done": "test_fuzz_more::test_receipt_and_tracking_extras",
    "tracking.sign_in": "test_fuzz_more::test_pages_with_typed_queries",
    "tracking.sign_in_post": "test_fuzz_forms::test_tracking_survey_and_proof_forms",
    "tracking.case": "test_fuzz_more::test_pages_with_typed_queries",
    "tracking.message": "test_fuzz_forms::test_tracking_survey_and_proof_forms",
    "tracking.rate": "test_fuzz_forms::test_tracking_survey_and_proof_forms",
    "tracking.action": "test_fuzz::test_tracking_forms_never_fail",
    "tracking.attach": "test_fuzz_more::test_receipt_and_tracking_extras",
    "tracking.proof": "test_fuzz_more::test_receipt_and_tracking_extras",
    "tracking.leave": "test_fuzz_more::test_receipt_and_tracking_extras",
    "statistik.page": "test_fuzz_more::test_pages_with_typed_queries",
    # staff: sign-in and the account
    "auth.sign_in": "test_fuzz_more::test_pages_with_typed_queries",
    "auth.sign_in_post": "test_fuzz_more::test_sign_in_and_account_forms",
    "auth.second_factor_post": "test_fuzz_more::test_sign_in_and_account_forms",
    "auth.enrol_post": "test_fuzz_more::test_sign_in_and_account_forms",
    "auth.recovery_codes": "test_fuzz_more::test_sign_in_and_account_forms",
    "auth.change_password": "test_fuzz_more::test_sign_in_and_account_forms",
    "auth.sign_out": "test_fuzz_more::test_sign_in_and_account_forms",
    "tokens.index": "test_fuzz_accounts::test_api_token_forms",
    "tokens.create": "test_fuzz_accounts::test_api_token_forms",
    "tokens.revoke": "test_fuzz_accounts::test_api_token_forms",
    # staff: cases
    "staff.queue": "test_fuzz_more::test_pages_with_typed_queries",
    "staff.find": "test_fuzz_more::test_pages_with_typed_queries",
    "staff.case": "test_fuzz_more::test_pages_with_typed_queries",
    "staff.action": "test_fuzz_forms::test_staff_case_forms",
    "staff.message": "test_fuzz_forms::test_staff_case_forms",
    "staff.note": "test_fuzz_forms::test_staff_case_forms",
    "staff.assign": "test_fuzz_forms::test_staff_case_forms",
    "staff.attach": "test_fuzz_forms::test_staff_case_forms",
    "identity.case_page": "test_fuzz_more::test_pages_with_typed_queries",
    "identity.approvals": "test_fuzz_more::test_pages_with_typed_queries",
    "identity.ask": "test_fuzz_accounts::test_identity_request_forms",
    "identity.decide": "test_fuzz_accounts::test_identity_request_forms",
    "identity.withdraw": "test_fuzz_accounts::test_identity_request_forms",
    # the employee's own reports
    "mine.form": "test_fuzz_more::test_pages_with_typed_queries",
    "mine.file": "test_fuzz_accounts::test_employee_filing",
    "mine.case": "test_fuzz_more::test_pages_with_typed_queries",
    "mine.message": "test_fuzz_accounts::test_employee_case_forms",
    "mine.action": "test_fuzz_accounts::test_employee_case_forms",
    "mine.attach": "test_fuzz_accounts::test_employee_case_forms",
    # reports and the audit pages
    "laporan.page": "test_fuzz_more::test_pages_with_typed_queries",
    "laporan.download": "test_fuzz_more::test_report_download_and_bundle",
    "audit.search": "test_fuzz_more::test_pages_with_typed_queries",
    "audit.bundle_download": "test_fuzz_more::test_report_download_and_bundle",
    # the admin's forms
    "admin.user_create": "test_fuzz_forms::test_admin_forms",
    "admin.unit_add": "test_fuzz_forms::test_admin_forms",
    "admin.unit_rename": "test_fuzz_forms::test_admin_forms",
    "admin.holiday_set": "test_fuzz_forms::test_admin_forms",
    "admin.template_create": "test_fuzz_forms::test_admin_forms",
    "admin.user_update": "test_fuzz_more::test_admin_user_template_and_unit_forms",
    "admin.grant_add": "test_fuzz_more::test_admin_user_template_and_unit_forms",
    "admin.grant_revoke": "test_fuzz_more::test_admin_user_template_and_unit_forms",
    "admin.user_reset_password": "test_fuzz_more::test_admin_user_template_and_unit_forms",
    "admin.user_deactivate": "test_fuzz_more::test_admin_user_template_and_unit_forms",
    "admin.user_reactivate": "test_fuzz_more::test_admin_user_template_and_unit_forms",
    "admin.user_reset_second_factor": "test_fuzz_more::test_admin_user_template_and_unit_forms",
    "admin.template_edit": "test_fuzz_more::test_admin_user_template_and_unit_forms",
    "admin.template_update": "test_fuzz_more::test_admin_user_template_and_unit_forms",
    "admin.template_active": "test_fuzz_more::test_admin_user_template_and_unit_forms",
    "admin.unit_atasan": "test_fuzz_more::test_admin_user_template_and_unit_forms",
    "admin.second_factor_post": "test_fuzz_more::test_admin_user_template_and_unit_forms",
}
#: every route's path parameters (case numbers, user names, unit codes, types, steps), signed in
PATHS = "test_fuzz_more::test_hostile_path_parameters_signed_in"
#: the JSON API: every operation, through its own OpenAPI description
API = "test_api_schemathesis::test_no_input_makes_the_api_fail"

#: endpoints reached by no fuzz test yet, each with why (keep it short; empty it)
NOT_FUZZED: dict[str, str] = {}


def _reads_query(view) -> bool:
    source = inspect.getsource(inspect.unwrap(view))
    return "request.args" in source


def test_every_form_and_typed_query_is_fuzzed(app):
    missing, wrong = [], []
    for rule in app.url_map.iter_rules():
        ep = rule.endpoint
        if ep.startswith("api."):
            continue
        view = app.view_functions[ep]
        if "POST" in rule.methods or ("GET" in rule.methods and _reads_query(view)):
            if ep not in FUZZED and ep not in NOT_FUZZED:
                missing.append(ep)
    for ep in [*FUZZED, *NOT_FUZZED]:
        if ep not in app.view_functions:
            wrong.append(ep)
    assert missing == [], "forms or typed queries that no fuzz test names"
    assert wrong == [], "named endpoints that do not exist"
    assert not set(FUZZED) & set(NOT_FUZZED)


def test_each_named_test_exists():
    for name in {*FUZZED.values(), API, PATHS}:
        module, func = name.split("::")
        assert callable(getattr(importlib.import_module(f"tests.web.{module}"), func, None)), name
