"""``geo load``: the bundled administrative units in the database."""

from __future__ import annotations

from models import CommuneMerge, District, NewCommune, OldCommune, db


def test_geo_load_stores_every_unit_of_both_versions(runner, ctx):
    result = runner.invoke(args=["geo", "load"])
    assert result.exit_code == 0, result.output
    assert db.session.query(District).count() == 13
    assert db.session.query(OldCommune).count() == 171
    assert db.session.query(NewCommune).count() == 54
    assert db.session.query(CommuneMerge).count() == 184


def test_geo_load_twice_changes_nothing(runner):
    runner.invoke(args=["geo", "load"])
    result = runner.invoke(args=["geo", "load"])
    assert result.exit_code == 0
    assert "0 changed" in result.output


def test_geo_load_repairs_a_changed_name(runner, ctx):
    db.session.get(NewCommune, "06862").name = "Tampered"
    db.session.commit()
    result = runner.invoke(args=["geo", "load"])
    assert "1 changed" in result.output
    db.session.expire_all()
    assert db.session.get(NewCommune, "06862").name == "Tiên Yên"


def test_split_commune_maps_to_each_of_its_new_communes(ctx):
    rows = db.session.scalars(
        db.select(CommuneMerge.new_code).where(CommuneMerge.old_code == "06886")
    ).all()
    assert sorted(rows) == ["06799", "06886", "06970"]


def test_codes_are_reused_so_old_ha_tu_is_not_new_ha_tu(ctx):
    assert db.session.get(NewCommune, "06652").name == "Hà Tu"
    assert db.session.get(OldCommune, "06652").name == "Hà Phong"
    targets = db.session.scalars(
        db.select(CommuneMerge.new_code).where(CommuneMerge.old_code == "06664")
    ).all()
    assert targets == ["06652"]
