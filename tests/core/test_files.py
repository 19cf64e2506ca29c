"""How kpplan writes a file's size, on the pages and in the commands."""

from __future__ import annotations

import pytest

from kpplan.core.files import readable_size


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (512, "512 bytes"),
        (1023, "1023 bytes"),
        (1024, "1 kB"),
        (1229, "1.2 kB"),
        (3_565_158, "3.4 MB"),
        (20 * 1024 * 1024, "20 MB"),
        (5 * 1024**3, "5 GB"),
        (3 * 1024**4, "3072 GB"),
    ],
)
def test_sizes_read_as_people_write_them(size, shown):
    assert readable_size(size) == shown


def test_the_pages_show_sizes_with_the_filter(app):
    with app.app_context():
        template = app.jinja_env.from_string("{{ 512|filesize }} · {{ 1229|filesize }}")
        assert template.render() == "512 bytes · 1.2 kB"
