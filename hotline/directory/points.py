"""The service directory CSV (DESIGN.md section 6): validate, import all-or-nothing, export.

Import reports every bad row with its line in the file (the header is line 1) and stores
nothing unless every row is good. Codes of pre-2025 communes are mapped to 2025 communes
through the merge table; a commune that was split is refused with the 2025 codes to use.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from flask_babel import gettext as _

from hotline.audit import record_event
from hotline.phones import SHORT_NUMBERS, is_mobile, normalise_phone
from models import ServicePoint, db
from routing.codes import SERVICE_POINT_KINDS, SERVICES
from routing.hours import HoursSyntaxError, parse_hours
from routing.places import Gazetteer, load_gazetteer

COLUMNS = (
    "code",
    "name",
    "kind",
    "commune_code",
    "district_code",
    "address",
    "phone",
    "alert_phone",
    "services",
    "hours",
    "capacity",
    "notes",
)
#: Optional columns after the contract's twelve (an older file without them still imports):
#: ``sms_name`` — a neutral name for SMS replies to survivors (at most 100 characters).
OPTIONAL_COLUMNS = ("sms_name",)
MAX_SMS_NAME = 100
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")


@dataclass(frozen=True)
class RowError:
    """One problem in the file; ``line`` 1 is the header."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = _("line %(line)d", line=self.line)
        if self.column:
            where += f" ({self.column})"
        return f"{where}: {self.message}"


@dataclass
class DirectoryEntry:
    """A validated row, in the form it is stored."""

    line: int
    code: str
    name: str
    kind: str
    commune_code: str | None
    district_code: str | None
    address: str
    phone: str | None
    alert_phone: str | None
    services: tuple[str, ...]
    hours: str
    capacity: int | None
    notes: str
    #: None when the file has no ``sms_name`` column (the stored one is kept).
    sms_name: str | None = None
    has_sms_name: bool = False


class DirectoryImportError(Exception):
    """The file was refused; nothing was stored. ``errors`` lists every problem."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the directory file")
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    codes: list[str] = field(default_factory=list)


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DirectoryImportError(
            [RowError(line, None, _("the file is not UTF-8 text"))]
        ) from None
    return text.removeprefix("\ufeff")  # spreadsheet programs add a byte-order mark


class _RowValidator:
    """Checks one row at a time, collecting errors instead of stopping at the first."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.g = gazetteer
        self.seen: dict[str, int] = {}

    def validate(
        self, line: int, row: dict[str, str]
    ) -> tuple[DirectoryEntry | None, list[RowError]]:
        errors: list[RowError] = []

        def err(column: str | None, message: str) -> None:
            errors.append(RowError(line, column, message))

        code = row["code"]
        if not code:
            err("code", _("a code is required"))
        elif not CODE_PATTERN.match(code):
            err(
                "code",
                _("the code may only contain letters, digits, '.', '_' and '-' (at most 50)"),
            )
        elif code in self.seen:
            err(
                "code",
                _(
                    "duplicate code %(code)s (first on line %(first)d)",
                    code=code,
                    first=self.seen[code],
                ),
            )
        else:
            self.seen[code] = line

        name = row["name"]
        if not name:
            err("name", _("a name is required"))

        kind = row["kind"]
        if kind not in SERVICE_POINT_KINDS:
            err(
                "kind",
                _(
                    "unknown kind %(value)s; expected one of: %(allowed)s",
                    value=kind or '""',
                    allowed=", ".join(SERVICE_POINT_KINDS),
                ),
            )

        commune_code = self._commune(row["commune_code"], err)
        district_code = None
        if row["district_code"]:
            if row["commune_code"]:
                err("district_code", _("give a commune_code or a district_code, not both"))
            elif self.g.district(row["district_code"]) is None:
                err(
                    "district_code", _("unknown district code %(code)s", code=row["district_code"])
                )
            else:
                district_code = row["district_code"]

        phone = self._phone(row["phone"], "phone", err, allow_short=True)
        alert_phone = self._phone(row["alert_phone"], "alert_phone", err, allow_short=False)
        if alert_phone and not is_mobile(alert_phone):
            err("alert_phone", _("the alert phone must be a mobile number that can receive SMS"))

        services = tuple(s.strip() for s in row["services"].split(";") if s.strip())
        unknown = [s for s in services if s not in SERVICES]
        if unknown:
            err(
                "services",
                _(
                    "unknown service %(value)s; expected some of: %(allowed)s",
                    value=", ".join(unknown),
                    allowed=", ".join(SERVICES),
                ),
            )
        if len(set(services)) != len(services):
            err("services", _("a service is listed twice"))

        hours = row["hours"] or "24/7"
        try:
            hours = str(parse_hours(hours))
        except HoursSyntaxError as exc:
            err(
                "hours",
                _(
                    "bad opening hours %(value)s: %(reason)s",
                    value=row["hours"],
                    reason=exc.message.render(_),
                ),
            )

        capacity = None
        offers_shelter = kind == "shelter" or "shelter" in services
        if row["capacity"]:
            if not row["capacity"].isdigit():
                err("capacity", _("capacity must be a whole number of beds"))
            elif not offers_shelter:
                err("capacity", _("capacity is only for points that offer shelter"))
            else:
                capacity = int(row["capacity"])
        elif offers_shelter:
            err("capacity", _("a point that offers shelter needs its capacity (beds)"))

        has_sms_name = "sms_name" in row
        sms_name = row.get("sms_name") or ""
        if len(sms_name) > MAX_SMS_NAME:
            err("sms_name", _("the SMS name has at most %(n)d characters", n=MAX_SMS_NAME))

        if errors:
            return None, errors
        return (
            DirectoryEntry(
                line=line,
                code=code,
                name=name,
                kind=kind,
                commune_code=commune_code,
                district_code=district_code,
                address=row["address"],
                phone=phone,
                alert_phone=alert_phone,
                services=services,
                hours=hours,
                capacity=capacity,
                notes=row["notes"],
                sms_name=sms_name or None,
                has_sms_name=has_sms_name,
            ),
            [],
        )

    def _commune(self, value: str, err) -> str | None:
        if not value:
            return None
        if not (len(value) == 5 and value.isdigit()):
            err("commune_code", _("a commune code has 5 digits (got %(value)s)", value=value))
            return None
        # A 2025 code wins: 2025 units reuse the codes of their constituents.
        new = self.g.commune(value)
        if new is not None:
            return new.code
        if self.g.old_commune(value) is None:
            err("commune_code", _("unknown commune code %(code)s", code=value))
            return None
        targets = self.g.new_codes_for_old(value)
        if len(targets) == 1:
            return targets[0]
        names = ", ".join(f"{c} {self.g.commune(c).full_name}" for c in targets)
        err(
            "commune_code",
            _(
                "former commune %(code)s was split in 2025 between %(targets)s: "
                "give the 2025 code",
                code=value,
                targets=names,
            ),
        )
        return None

    def _phone(self, value: str, column: str, err, *, allow_short: bool) -> str | None:
        if not value:
            return None
        compact = re.sub(r"[\s.()-]", "", value)
        if allow_short and compact in SHORT_NUMBERS:
            return compact
        e164 = normalise_phone(value)
        if e164 is None:
            err(column, _("invalid phone number %(value)s", value=value))
        return e164


def parse_directory(data: bytes, gazetteer: Gazetteer | None = None) -> list[DirectoryEntry]:
    """Validate a directory file; raise :class:`DirectoryImportError` with every problem."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise DirectoryImportError([RowError(1, None, _("the file is empty"))]) from None
    except csv.Error:
        header = []
    columns = tuple(h.strip() for h in header)
    if columns not in (COLUMNS, COLUMNS + OPTIONAL_COLUMNS):
        raise DirectoryImportError(
            [
                RowError(
                    1,
                    None,
                    _(
                        "the header must be exactly: %(columns)s (optionally followed by "
                        "%(optional)s)",
                        columns=",".join(COLUMNS),
                        optional=",".join(OPTIONAL_COLUMNS),
                    ),
                )
            ]
        )
    validator = _RowValidator(gazetteer or load_gazetteer())
    entries: list[DirectoryEntry] = []
    errors: list[RowError] = []
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            errors.append(RowError(line, None, _("this line is not valid CSV")))
            break
        start, line = line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            errors.append(
                RowError(
                    start,
                    None,
                    _(
                        "expected %(expected)d columns, found %(found)d",
                        expected=len(columns),
                        found=len(cells),
                    ),
                )
            )
            continue
        row = {k: v.strip() for k, v in zip(columns, cells, strict=True)}
        entry, row_errors = validator.validate(start, row)
        errors.extend(row_errors)
        if entry:
            entries.append(entry)
    if errors:
        raise DirectoryImportError(errors)
    return entries


def _fields(entry: DirectoryEntry) -> dict[str, object]:
    return {
        "name": entry.name,
        "kind": entry.kind,
        "commune_code": entry.commune_code,
        "district_code": entry.district_code,
        "address": entry.address,
        "phone": entry.phone,
        "alert_phone": entry.alert_phone,
        "services": ";".join(entry.services),
        "hours": entry.hours,
        "capacity": entry.capacity,
        "notes": entry.notes,
        "active": True,
        **({"sms_name": entry.sms_name} if entry.has_sms_name else {}),
    }


def store_entries(
    entries: Iterable[DirectoryEntry], *, deactivate_missing: bool = False, is_sample: bool = False
) -> ImportResult:
    """Upsert validated entries by code in the current transaction (the caller commits)."""
    result = ImportResult()
    existing = {p.code: p for p in db.session.scalars(db.select(ServicePoint))}
    for entry in entries:
        values = _fields(entry)
        point = existing.get(entry.code)
        result.codes.append(entry.code)
        if point is None:
            db.session.add(ServicePoint(code=entry.code, is_sample=is_sample, **values))
            result.created += 1
        elif any(getattr(point, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(point, k, v)
            result.updated += 1
        else:
            result.unchanged += 1
    if deactivate_missing:
        keep = set(result.codes)
        for code, point in existing.items():
            if code not in keep and point.active:
                point.active = False
                result.deactivated += 1
    return result


def import_directory(
    data: bytes, *, actor: str = "cli", deactivate_missing: bool = False
) -> ImportResult:
    """Validate and store a directory file in one transaction: all rows or none."""
    entries = parse_directory(data)
    try:
        result = store_entries(entries, deactivate_missing=deactivate_missing)
        record_event(
            actor,
            "directory.import",
            "service_point",
            details={
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "deactivated": result.deactivated,
            },
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def export_directory(out: TextIO, *, include_inactive: bool = False) -> int:
    """Write the directory in the import format; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    query = db.select(ServicePoint).order_by(ServicePoint.code)
    if not include_inactive:
        query = query.where(ServicePoint.active.is_(True))
    points = list(db.session.scalars(query))
    # The optional column only when some point has a neutral SMS name: files stay exactly
    # the contract's twelve columns otherwise.
    with_sms_name = any(p.sms_name for p in points)
    writer.writerow(COLUMNS + (OPTIONAL_COLUMNS if with_sms_name else ()))
    count = 0
    for p in points:
        writer.writerow(
            [
                p.code,
                p.name,
                p.kind,
                p.commune_code or "",
                p.district_code or "",
                p.address,
                p.phone or "",
                p.alert_phone or "",
                p.services,
                p.hours,
                "" if p.capacity is None else p.capacity,
                p.notes,
                *([p.sms_name or ""] if with_sms_name else []),
            ]
        )
        count += 1
    return count
