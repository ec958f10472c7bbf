"""``directory import`` / ``export`` (DESIGN.md section 6): all-or-nothing, every bad row
named with its line."""

from __future__ import annotations

import pytest

from hotline.directory.points import (
    COLUMNS,
    DirectoryImportError,
    export_directory,
    import_directory,
    parse_directory,
)
from models import AuditEvent, ServicePoint, db
from tests.factories import directory_csv, directory_row


def import_file(runner, tmp_path, data: bytes, *args: str):
    path = tmp_path / "directory.csv"
    path.write_bytes(data)
    return runner.invoke(args=["directory", "import", str(path), *args])


def errors_of(data: bytes) -> list[tuple[int, str | None]]:
    with pytest.raises(DirectoryImportError) as exc:
        parse_directory(data)
    return [(e.line, e.column) for e in exc.value.errors]


def test_fifty_rows_with_three_bad_import_nothing_and_name_all_three(runner, tmp_path, ctx):
    rows = [directory_row(n) for n in range(1, 51)]
    rows[9]["commune_code"] = "99999"  # line 11
    rows[24]["alert_phone"] = "12345"  # line 26
    rows[39]["hours"] = "Mo-Fr 17:00-07:30"  # line 41
    result = import_file(runner, tmp_path, directory_csv(rows))
    assert result.exit_code != 0
    assert "line 11 (commune_code)" in result.output
    assert "line 26 (alert_phone)" in result.output
    assert "line 41 (hours)" in result.output
    assert "3 problem(s)" in result.output
    assert db.session.query(ServicePoint).count() == 0


def test_good_file_imports_every_row_with_e164_phones(runner, tmp_path, ctx):
    rows = [
        directory_row(1, phone="0203 3835 123", alert_phone="+84 900 100 501"),
        directory_row(2, phone="(0203) 3.835.124", alert_phone="0900100502"),
    ]
    result = import_file(runner, tmp_path, directory_csv(rows))
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output
    points = db.session.scalars(db.select(ServicePoint).order_by(ServicePoint.code)).all()
    assert [p.phone for p in points] == ["+842033835123", "+842033835124"]
    assert [p.alert_phone for p in points] == ["+84900100501", "+84900100502"]
    assert points[0].service_list == ["counselling", "psychosocial"]
    event = db.session.scalars(db.select(AuditEvent)).one()
    assert event.action == "directory.import"
    assert event.details["created"] == 2


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"commune_code": "99999"}, "commune_code"),
        ({"commune_code": "6862"}, "commune_code"),
        ({"commune_code": "", "district_code": "204"}, "district_code"),
        ({"district_code": "205"}, "district_code"),
        ({"phone": "not a phone"}, "phone"),
        ({"alert_phone": "091234567"}, "alert_phone"),
        ({"alert_phone": "0203 3835 123"}, "alert_phone"),  # a landline cannot get SMS
        ({"alert_phone": "113"}, "alert_phone"),
        ({"kind": "hospital"}, "kind"),
        ({"kind": ""}, "kind"),
        ({"services": "counselling;yoga"}, "services"),
        ({"services": "legal;legal"}, "services"),
        ({"hours": "Mo-Fr 25:00-26:00"}, "hours"),
        ({"hours": "sometimes"}, "hours"),
        ({"hours": "Xy 08:00-11:00"}, "hours"),
        ({"capacity": "ten"}, "capacity"),
        ({"capacity": "4"}, "capacity"),  # a trusted address has no beds
        ({"kind": "shelter", "services": "shelter"}, "capacity"),  # a shelter needs its beds
        ({"code": ""}, "code"),
        ({"code": "has space"}, "code"),
        ({"name": ""}, "name"),
    ],
)
def test_each_kind_of_bad_value_is_reported_on_its_line_and_column(overrides, column, ctx):
    data = directory_csv([directory_row(1), directory_row(2, **overrides)])
    assert errors_of(data) == [(3, column)]


def test_duplicate_code_names_the_first_line(ctx):
    data = directory_csv([directory_row(1), directory_row(2), directory_row(1)])
    with pytest.raises(DirectoryImportError) as exc:
        parse_directory(data)
    (error,) = exc.value.errors
    assert (error.line, error.column) == (4, "code")
    assert "line 2" in error.message


def test_pre_2025_commune_code_is_mapped_to_its_2025_commune(ctx):
    # Old Phường Hà Tu (06664) is part of new Phường Hà Tu, whose code is 06652.
    (entry,) = parse_directory(directory_csv([directory_row(1, commune_code="06664")]))
    assert entry.commune_code == "06652"


def test_2025_code_wins_when_an_old_unit_had_the_same_code(ctx):
    # 06652 was old Phường Hà Phong and is now Phường Hà Tu: the 2025 meaning is used.
    (entry,) = parse_directory(directory_csv([directory_row(1, commune_code="06652")]))
    assert entry.commune_code == "06652"


def test_split_old_commune_is_refused_with_the_2025_codes_to_choose(ctx):
    with pytest.raises(DirectoryImportError) as exc:
        parse_directory(directory_csv([directory_row(1, commune_code="07042")]))
    (error,) = exc.value.errors
    assert error.column == "commune_code"
    assert "07060" in error.message and "07030" in error.message


def test_ba_che_old_published_code_is_accepted(ctx):
    (entry,) = parse_directory(directory_csv([directory_row(1, commune_code="06978")]))
    assert entry.commune_code == "06970"


def test_district_wide_and_province_wide_points(ctx):
    entries = parse_directory(
        directory_csv(
            [
                directory_row(
                    1,
                    commune_code="",
                    district_code="203",
                    kind="police",
                    services="police",
                    phone="113",
                ),
                directory_row(
                    2,
                    commune_code="",
                    kind="social_work_center",
                    hours="24/7",
                    services="shelter;counselling",
                    capacity="10",
                ),
            ]
        )
    )
    assert (entries[0].district_code, entries[0].commune_code, entries[0].phone) == (
        "203",
        None,
        "113",
    )
    assert (entries[1].district_code, entries[1].commune_code, entries[1].capacity) == (
        None,
        None,
        10,
    )


def test_wrong_header_is_reported_on_line_one(ctx):
    assert errors_of(b"code,name,kind\nA,B,trusted_address\n") == [(1, None)]


def test_rows_with_missing_or_extra_cells_are_reported(ctx):
    good = directory_csv([directory_row(1)]).decode()
    data = (
        good + "X1,only,three\n" + good.splitlines()[1].replace("QN-DCTC-001", "X2") + ",extra\n"
    ).encode()
    assert errors_of(data) == [(3, None), (4, None)]


def test_line_numbers_count_lines_inside_quoted_cells(ctx):
    rows = [directory_row(1, address="Thôn 1\nxã Tiên Yên"), directory_row(2, kind="bad")]
    assert errors_of(directory_csv(rows)) == [(4, "kind")]


def test_file_that_is_not_utf8_is_refused(ctx):
    data = directory_csv([directory_row(1)]) + b"X2,\xff\xfe broken\n"
    with pytest.raises(DirectoryImportError) as exc:
        parse_directory(data)
    assert "UTF-8" in exc.value.errors[0].message


def test_spreadsheet_byte_order_mark_is_accepted(ctx):
    entries = parse_directory(b"\xef\xbb\xbf" + directory_csv([directory_row(1)]))
    assert entries[0].code == "QN-DCTC-001"


def test_empty_file_is_refused(ctx):
    assert errors_of(b"") == [(1, None)]


def test_reimport_updates_changed_rows_and_keeps_others(ctx):
    import_directory(directory_csv([directory_row(1), directory_row(2)]))
    result = import_directory(directory_csv([directory_row(1, name="Đổi tên")]))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    names = db.session.scalars(db.select(ServicePoint.name).order_by(ServicePoint.code)).all()
    assert names == ["Đổi tên", "Địa chỉ tin cậy số 2"]


def test_deactivate_missing_retires_points_not_in_the_file(runner, tmp_path, ctx):
    import_directory(directory_csv([directory_row(1), directory_row(2)]))
    result = import_file(
        runner, tmp_path, directory_csv([directory_row(1)]), "--deactivate-missing"
    )
    assert "1 deactivated" in result.output
    active = db.session.scalars(db.select(ServicePoint.code).where(ServicePoint.active)).all()
    assert active == ["QN-DCTC-001"]


def test_export_writes_what_import_reads(runner, tmp_path, ctx):
    rows = [
        directory_row(1, address='Nhà văn hoá, "thôn 1"', notes="Gọi trước; có xe"),
        directory_row(
            2,
            commune_code="",
            district_code="193",
            kind="shelter",
            services="shelter;psychosocial",
            capacity="6",
            hours="24/7",
        ),
    ]
    import_directory(directory_csv(rows))
    path = tmp_path / "out.csv"
    result = runner.invoke(args=["directory", "export", str(path)])
    assert result.exit_code == 0, result.output
    exported = path.read_bytes()
    assert exported.splitlines()[0].decode() == ",".join(COLUMNS)
    again = import_directory(exported)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_export_without_file_writes_to_standard_output(runner, ctx):
    import_directory(directory_csv([directory_row(1)]))
    result = runner.invoke(args=["directory", "export"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[1].startswith("QN-DCTC-001,")


def test_export_of_empty_directory_is_just_the_header(ctx):
    import io

    out = io.StringIO()
    assert export_directory(out) == 0
    assert out.getvalue() == ",".join(COLUMNS) + "\n"
