"""No request is a server error: generated requests for every route and every role.

For each route of the URL map (grouped by blueprint, one app per group) Hypothesis draws
requests as an attacker or a careless person would send them: ids at the edges of 64 bits
and beyond, digits of other scripts, query parameters and form fields that are very long,
hold a NUL byte or any Unicode, dates such as 2027-02-30, files with odd names and
spreadsheets with odd cells. Every answer must be something other than a 500, on SQLite
and on PostgreSQL.

First, every route is sent once for every role with edge values (``sweep``); then
Hypothesis draws ``KPPLAN_FUZZ_EXAMPLES`` requests per group. The seed is fixed
(``derandomize``) so CI runs the same requests each time; the default keeps both databases
within a few minutes (raise it to search harder). Each family of errors the first runs found keeps
a request in ``regressions.REGRESSIONS``, sent first as an explicit ``@example``.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from flask.testing import EnvironBuilder
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kpplan.recommendations.exports import FOLLOW_UP_COLUMNS, RECOMMENDATION_COLUMNS
from tests.hardening.regressions import REGRESSIONS, Regression
from tests.hardening.world import ROLES, build_world, read_forms, routes, sample_path, sign_in

EXAMPLES = int(os.environ.get("KPPLAN_FUZZ_EXAMPLES", "150"))
#: When set, server errors are listed in this file (one line per distinct place) instead
#: of failing the test, so that one long run finds all of them.
SURVEY = os.environ.get("KPPLAN_FUZZ_SURVEY")

#: Blueprints tested together, each group with one app and one set of records.
GROUPS = {
    "home": ("home", "static", "auth", "audit"),
    "directory": ("directory",),
    "meetings": ("meetings", "feeds"),
    "recommendations": ("recommendations",),
    "chair": ("chair", "review"),
    "reports": ("reports", "reminders"),
}

# --- What a careless person or an attacker types --------------------------------------

EDGE_NUMBERS = [
    "0",
    "-1",
    "1",
    "2147483648",
    str(2**63 - 1),
    str(2**63),
    str(-(2**63) - 1),
    "99999999999999999999",
    "9" * 400,
    "²",
    "١٢",
    "৩",
    "1e309",
    " 7 ",
    "+5",
    "1_000",
    "0x10",
    "NaN",
]
EDGE_DATES = [
    "2027-02-30",
    "2026-13-01",
    "2026-00-10",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "99999-01-01",
    "2024-02-29",
    "2026-7-1",
    "2022-Q3",
    "2022-Q9",
    "2026-07",
    "2026-W05",
    "1899-12-31T25:61",
]
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "x" * 10_000,
    "é" * 300,
    "\u202egnp.exe",
    "<script>alert(1)</script>",
    "'; drop table users; --",
    '=HYPERLINK("http://evil.example")',
    "\r\n",
    "%00",
    "../../etc/passwd",
    "//evil.example",
    "on",
    "yes",
]
QUERY_NAMES = [
    "page",
    "cursor",
    "state",
    "activity",
    "year",
    "q",
    "from",
    "to",
    "status",
    "kind",
    "month",
    "token",
    "theme",
    "show",
    "overdue",
    "rows",
    "only",
    "rule",
    "run",
    "type",
    "id",
    "next",
    "format",
    "role",
    "section",
]

unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
long_text = st.integers(min_value=100, max_value=12_000).map(lambda n: "ü" * n)
any_value = st.one_of(
    st.sampled_from(EDGE_NUMBERS),
    st.sampled_from(EDGE_DATES),
    st.sampled_from(NASTY),
    unicode_text,
    long_text,
    st.integers().map(str),
)


def _csv(columns: tuple[str, ...], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


@st.composite
def spreadsheets(draw) -> bytes:
    columns = draw(st.sampled_from([RECOMMENDATION_COLUMNS, FOLLOW_UP_COLUMNS]))
    cell = st.one_of(any_value, st.just("x" * 140_000), st.just("1"))
    rows = draw(st.lists(st.lists(cell, min_size=len(columns), max_size=len(columns)), max_size=3))
    return _csv(columns, rows)


upload_bodies = st.one_of(
    st.just(b"%PDF-1.4\n%kpplan\n"),
    spreadsheets(),
    st.binary(max_size=200),
    st.just(b"Code,Activity ID\x00\n1,2\n"),
)
upload_names = st.one_of(
    st.sampled_from(
        ["report.pdf", "import.csv", "import.xlsx", "\u202efdp.exe", "a\x00b.csv", "x" * 300]
    ),
    unicode_text,
)


# --- Requests ---------------------------------------------------------------------------


@dataclass
class Sent:
    """A generated request, printed by Hypothesis when it finds a server error."""

    method: str
    path: str
    role: str
    query: dict[str, list[str]] = field(default_factory=dict)
    form: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)


def _path_value(rule, name: str, objects):
    converter = rule._converters[name]
    kind = type(converter).__name__
    sample = str(objects[name])
    if "Int" in kind:
        # Half the time the real record, to reach the forms and services behind the id.
        edges = st.one_of(st.sampled_from(EDGE_NUMBERS), st.integers().map(str))
        return st.one_of(st.just(sample), edges)
    if "Any" in kind:
        return st.one_of(st.sampled_from(sorted(converter.items)), unicode_text)
    return st.one_of(st.just(sample), unicode_text, st.sampled_from(NASTY))


@st.composite
def sent_requests(draw, group_routes, forms, objects) -> Sent:
    method, rule = draw(st.sampled_from(group_routes))
    values = {name: draw(_path_value(rule, name, objects)) for name in sorted(rule.arguments)}
    path = sample_path(rule, {name: quote(v, safe="") for name, v in values.items()}) or "/"
    query_names = st.one_of(st.sampled_from(QUERY_NAMES), unicode_text)
    values_of = st.lists(any_value, min_size=1, max_size=2)
    query = draw(st.dictionaries(query_names, values_of, max_size=4))
    form: dict[str, list[str]] = {}
    files: dict[str, tuple[bytes, str]] = {}
    if method == "POST":
        shape = forms.get((method, rule.endpoint))
        names = sorted(shape.fields) if shape else []
        for name in names:
            offered = shape.fields[name]
            choice = st.sampled_from(offered) if offered else any_value
            if draw(st.integers(0, 9)) < 8:  # mostly the page's own value, to go deep
                form[name] = [draw(st.one_of(choice, choice, any_value))]
        form.update(draw(st.dictionaries(query_names, values_of, max_size=2)))
        for name in sorted(shape.files) if shape else []:
            files[name] = (draw(upload_bodies), draw(upload_names))
    role = draw(st.sampled_from(ROLES))
    return Sent(method, path, role, query, form, files)


def send(app, client, people, sent: Sent):
    sign_in(client, app, people[sent.role].id if sent.role != "anonymous" else None)
    data: dict = {name: values for name, values in sent.form.items()}
    for name, (body, filename) in sent.files.items():
        data[name] = (io.BytesIO(body), filename)
    # Werkzeug's builder keeps a body over 500 kB in a temporary file that nobody closes:
    # build the request here and close its body once answered.
    builder = EnvironBuilder(
        app, path=sent.path, method=sent.method, query_string=sent.query, data=data or None
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()


# --- The sweep: every route, every role, at least once ---------------------------------

#: Values the sweep puts in form fields, in turn: one field of each form holds each.
SWEEP_VALUES = [
    "a\x00b",
    "99999999999999999999",
    "2027-02-30",
    "ü" * 10_000,
    "١٢",
    str(2**31),
    "=1+1",
    "\u202etxt.exe",
]
SWEEP_QUERY = {
    "page": ["99999999999999999999"],
    "state": ["²"],
    "activity": [str(2**63)],
    "year": ["2027-02-30"],
    "from": ["2027-02-30"],
    "to": ["99999-01-01"],
    "month": ["2026-13"],
    "q": ["ü" * 10_000],
    # A list's cursor (core.paging) with a key too large for any column, base64 of JSON.
    "cursor": ["WyJhIiwiOTk5OTktMDEtMDEiLDk5OTk5OTk5OTk5OTk5OTk5OTk5OTksMV0"],
}
SWEEP_FILE = (
    _csv(RECOMMENDATION_COLUMNS, [["²", "99999999999999999999", "", "x" * 140_000] + [""] * 7]),
    "\u202eimport.csv",
)


def sweep(group_routes, forms, objects) -> list[Sent]:
    """Each (method, route) for each role once: the real records in the path (so that the
    request reaches the page), the edge values in the query and the form's fields."""
    sent = []
    for n, (method, rule) in enumerate(group_routes):
        path = sample_path(rule, objects)
        shape = forms.get((method, rule.endpoint))
        for r, role in enumerate(ROLES):
            form = {}
            if method == "POST" and shape is not None:
                for f, name in enumerate(sorted(shape.fields)):
                    offered = shape.fields[name]
                    # One field of the form at an edge, the others as the page has them.
                    if f == (n + r) % max(len(shape.fields), 1) or not offered:
                        form[name] = [SWEEP_VALUES[(n + r + f) % len(SWEEP_VALUES)]]
                    else:
                        form[name] = [offered[0]]
            files = {name: SWEEP_FILE for name in sorted(shape.files)} if shape else {}
            query = SWEEP_QUERY if (n + r) % 2 else {}
            sent.append(Sent(method, path, role, query, form, files))
    return sent


# --- Regressions: one request of each family the first runs found --------------------


def as_sent(regression: Regression, objects: dict) -> Sent:
    """A request of ``regressions.REGRESSIONS`` with the world's ids in its path."""
    return Sent(
        regression.method,
        regression.path.format(**objects),
        regression.role,
        dict(regression.query),
        dict(regression.form),
        dict(regression.files),
    )


def _survey(app, client, people, sent: Sent, backend: str) -> int:
    """Send ``sent``; a crash is written to the ``SURVEY`` file (kind, place, request)."""
    import traceback

    try:
        response = send(app, client, people, sent)
    except Exception as error:  # noqa: BLE001 - the survey lists every kind of crash
        frames = [f for f in traceback.extract_tb(error.__traceback__) if "/kpplan/" in f.filename]
        last = frames[-1] if frames else None
        where = f"{last.filename.split('/kpplan/')[-1]}:{last.lineno}" if last else "?"
        with open(SURVEY, "a") as out:
            out.write(
                f"{backend}\t{type(error).__name__}\t{where}\t{sent.method} {sent.path[:80]}"
                f"\t{str(error)[:160]!r}\t{sent!r:.600}\n"
            )
        return 500
    status = response.status_code
    response.close()
    return status


# --- The test -----------------------------------------------------------------------------


_FORMS: dict[str, dict] = {}


def _forms_of(backend, app, client, people, objects, all_routes):
    if backend not in _FORMS:
        sign_in(client, app, people["admin"].id)
        pages = [sample_path(rule, objects) for method, rule in all_routes if method == "GET"]
        _FORMS[backend] = read_forms(app, client, pages)
    return _FORMS[backend]


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_no_generated_request_is_a_server_error(app, backend, client, factory, people, group):
    objects = build_world(app, factory, people)
    all_routes = routes(app)
    forms = _forms_of(backend, app, client, people, objects, all_routes)
    group_routes = [
        (method, rule)
        for method, rule in all_routes
        if rule.endpoint.partition(".")[0] in GROUPS[group] or rule.endpoint in GROUPS[group]
    ]
    assert group_routes
    answered: list[int] = []

    # One app for the whole group: Hypothesis draws many requests against the same
    # records, as a running server would receive them (hence no function-scoped fixture
    # inside the examples).
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=False,
    )
    @given(sent_requests(group_routes, forms, objects))
    def no_server_error(sent: Sent) -> None:
        if SURVEY:
            status = _survey(app, client, people, sent, backend)
            answered.append(status)
            return
        response = send(app, client, people, sent)
        status = response.status_code
        response.close()
        answered.append(status)
        assert status != 500, sent

    explicit = [as_sent(r, objects) for r in REGRESSIONS if r.group == group]
    explicit += sweep(group_routes, forms, objects)
    for sent in reversed(explicit):  # the decorators apply in reverse: keep the order
        no_server_error = example(sent)(no_server_error)
    no_server_error()
    if SURVEY:
        with open(SURVEY, "a") as out:
            counts = {code: answered.count(code) for code in sorted(set(answered))}
            out.write(f"#\t{backend}\t{group}\t{len(answered)} requests\t{counts}\n")
    assert len(answered) >= len(explicit) + EXAMPLES // 2
