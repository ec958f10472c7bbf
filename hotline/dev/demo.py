"""Sample data for trying the service: clearly fictitious, refused in production."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.accounts.users import create_user
from hotline.directory.places import load_places
from hotline.directory.points import DirectoryEntry, store_entries
from hotline.phones import normalise_phone
from models import User, db
from routing.places import Gazetteer, load_gazetteer

DEMO_PREFIX = "DEMO-"
DEMO_LABEL = "[DEMO] "
OFFICE_HOURS = "Mo-Fr 07:30-11:30,13:30-17:00; Sa 08:00-11:00"
#: Sample shelters, district-wide in the former districts with the most cases.
SHELTER_DISTRICTS = {"193": 6, "195": 4, "194": 4, "196": 3}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


DEMO_LOGINS = (
    DemoLogin("demo-operator", "demo-operator-18001769", "operator"),
    DemoLogin("demo-social-worker", "demo-social-worker-18001769", "social_worker"),
    DemoLogin("demo-manager", "demo-manager-18001769", "manager"),
    DemoLogin("demo-admin", "demo-admin-18001769", "admin"),
)
#: The commune whose trusted address the demo social worker works at (Xã Tiên Yên).
DEMO_SOCIAL_WORKER_COMMUNE = "06862"


def fake_phone(n: int) -> str:
    """A fictitious mobile number in one visibly artificial block (090 000 xxxx)."""
    e164 = normalise_phone(f"0900{n:06d}")
    assert e164 is not None
    return e164


def demo_entries(g: Gazetteer | None = None) -> list[DirectoryEntry]:
    """Every 2025 commune's trusted address, police and shelters per former district,
    and the provincial centre (24/7), all marked as demo."""
    g = g or load_gazetteer()
    entries: list[DirectoryEntry] = []
    n = 0

    def add(**kw) -> None:
        nonlocal n
        n += 1
        kw.setdefault("address", "")
        kw.setdefault("notes", "Dữ liệu mẫu, không có thật / sample data, not real")
        kw.setdefault("capacity", None)
        entries.append(
            DirectoryEntry(
                line=0,
                phone=kw.pop("phone", fake_phone(n)),
                alert_phone=fake_phone(5000 + n),
                **kw,
            )
        )

    add(
        code=f"{DEMO_PREFIX}TT-TINH",
        name=f"{DEMO_LABEL}Trung tâm Công tác xã hội tỉnh (Ngôi nhà Ánh Dương)",
        kind="social_work_center",
        commune_code=None,
        district_code=None,
        services=(
            "shelter",
            "medical",
            "psychosocial",
            "legal",
            "child_protection",
            "counselling",
            "livelihood",
        ),
        hours="24/7",
        capacity=10,
    )
    add(
        code=f"{DEMO_PREFIX}TGPL-TINH",
        name=f"{DEMO_LABEL}Trợ giúp pháp lý tỉnh",
        kind="legal_aid",
        commune_code=None,
        district_code=None,
        services=("legal",),
        hours=OFFICE_HOURS,
    )
    for c in g.communes:
        add(
            code=f"{DEMO_PREFIX}DCTC-{c.code}",
            name=f"{DEMO_LABEL}Địa chỉ tin cậy {c.type.lower()} {c.name}",
            kind="trusted_address",
            commune_code=c.code,
            district_code=None,
            services=("counselling", "psychosocial"),
            # Every fifth one is open around the clock, so routing shows both cases.
            hours="24/7" if int(c.code) % 5 == 0 else OFFICE_HOURS,
        )
    for d in g.districts:
        add(
            code=f"{DEMO_PREFIX}CA-{d.code}",
            name=f"{DEMO_LABEL}Công an {d.full_name}",
            kind="police",
            commune_code=None,
            district_code=d.code,
            services=("police",),
            hours="24/7",
            phone="113",
        )
        if d.code in SHELTER_DISTRICTS:
            add(
                code=f"{DEMO_PREFIX}NTL-{d.code}",
                name=f"{DEMO_LABEL}Nhà tạm lánh {d.full_name}",
                kind="shelter",
                commune_code=None,
                district_code=d.code,
                services=("shelter", "psychosocial"),
                hours="24/7",
                capacity=SHELTER_DISTRICTS[d.code],
            )
    return entries


def load_demo() -> tuple[int, list[DemoLogin]]:
    """Store the sample directory and one user per role (idempotent); returns the number of
    service points and the demo logins."""
    load_places()  # the directory refers to communes and districts
    try:
        result = store_entries(demo_entries(), is_sample=True)
        db.session.flush()
        for login in DEMO_LOGINS:
            if db.session.scalar(db.select(User).where(User.username == login.username)):
                continue
            points = (
                [f"{DEMO_PREFIX}DCTC-{DEMO_SOCIAL_WORKER_COMMUNE}"]
                if login.role == "social_worker"
                else []
            )
            create_user(
                login.username,
                login.password,
                login.role,
                service_point_codes=points,
                phone=fake_phone(9000 + DEMO_LOGINS.index(login)),
                on_duty=login.role in ("operator", "social_worker"),
                actor="demo",
                is_sample=True,
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(result.codes), list(DEMO_LOGINS)
