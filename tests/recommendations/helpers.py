"""What the tests of recommendations and follow-ups share: the clock's today, the update
form and the import, driven through HTTP as people use them."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import sqlalchemy as sa

from kpplan.core.clock import today
from kpplan.core.extensions import db

PDF = b"%PDF-1.4\n%evidence\n"


def process_today(app) -> date:
    with app.test_request_context():
        return today()


def form_version(client, follow_up_id: int) -> int:
    page = client.get(f"/follow-ups/{follow_up_id}")
    assert page.status_code == 200
    return int(re.search(r'name="version" type="hidden" value="(\d+)"', page.text).group(1))


def post_update(client, follow_up_id, version, status="in_progress", **extra):
    data = {
        "version": version,
        "status": status,
        "narrative": "The ministry has set up a working group.",
        **extra,
    }
    return client.post(f"/follow-ups/{follow_up_id}", data=data)


def count_rows(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def csv_body(header, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def import_file(client, url, body, name):
    return client.post(
        url, data={"file": (io.BytesIO(body), name)}, content_type="multipart/form-data"
    )


def confirm_import(client, preview, url):
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview.text).group(1)
    return client.post(url, data={"token": token})
