"""The built wheel holds every runtime file: an installed copy, run outside the source tree,
serves the Vietnamese screens (templates, static files, catalogs in ``locales/``)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import sys
import hotline
assert hotline.__file__.startswith(sys.prefix), hotline.__file__
from hotline import create_app
client = create_app().test_client()
page = client.get("/login")
assert page.status_code == 200, page.status_code
assert "Đăng nhập" in page.get_data(as_text=True)  # "Sign in", from locales/vi
assert client.get("/static/favicon.svg").status_code == 200
from hotline.accounts.passwords import is_common
assert is_common("password12345")
print("ok")
"""


@pytest.mark.slow
def test_the_installed_wheel_serves_vietnamese_outside_the_source_tree(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        timeout=300,
        cwd=tmp_path,
    )
    [wheel] = wheels.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "locales/vi/LC_MESSAGES/messages.mo",
        "locales/en/LC_MESSAGES/messages.mo",
        "hotline/templates/base.html",
        "hotline/static/favicon.svg",
        "hotline/accounts/data/common-passwords.txt",
        "models/migrations/script.py.mako",
        "models/migrations/alembic.ini",
        "routing/data/quang-ninh/communes-2025.csv",
    ):
        assert required in names, required

    # A fresh virtualenv with only the wheel installed; the dependencies come from this
    # one's site-packages through a .pth line (which does not load the editable install).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "_outer_site_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        timeout=300,
        cwd=tmp_path,
    )
    run = tmp_path / "run"
    run.mkdir()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TEST_", "PYTHON"))
    }
    env.update(HOTLINE_ENV="development", HOTLINE_INSTANCE_PATH=str(run / "instance"))
    result = subprocess.run(
        [str(python), "-c", CHECK], cwd=run, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
