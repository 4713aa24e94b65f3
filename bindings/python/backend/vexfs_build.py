"""The package's PEP 517 build backend: the standard library only, so that
`python3 -m pip install ./bindings/python` works offline (build isolation then has nothing to
download). It builds libvexfs with meson/ninja when the package sits in a libvexfs checkout, and
bundles the library into the wheel next to the Python modules.

The library comes from, in order: the checkout's build directory ($VEXFS_BUILD_DIR, else build/
at the checkout's root; set up with meson when missing, brought up to date with ninja), or a
libvexfs.so.1 already placed in vexfs/.
"""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sysconfig
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bindings/python
PACKAGE = os.path.join(HERE, "vexfs")
CHECKOUT = os.path.dirname(os.path.dirname(HERE))
LIBRARY = "libvexfs.so.1"


def _project() -> dict:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def _build_tool_environment() -> dict[str, str]:
    """This process's environment less the variables that configure a Python interpreter, for
    meson and ninja. pip's isolated build sets PYTHONNOUSERSITE and points PYTHONPATH at a
    sitecustomize that hides every site-packages folder: that is meant for the interpreter running
    this backend, but meson is a Python program of its own (/usr/bin/meson runs /usr/bin/python3),
    started by us and again by ninja whenever the build folder is out of date, and it must find its
    own modules there (else "No module named 'mesonbuild'"). PATH stays: meson and ninja are the
    ones it names, and the folders pip puts first hold only build requirements' scripts (ours
    install none)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("PYTHON")}


def _built_library() -> str:
    """The path of a current libvexfs.so.1, building it in the checkout when there is one."""
    if os.path.exists(os.path.join(CHECKOUT, "include", "vexfs", "vexfs.h")):
        build = os.environ.get("VEXFS_BUILD_DIR") or os.path.join(CHECKOUT, "build")
        env = _build_tool_environment()
        if not os.path.exists(os.path.join(build, "build.ninja")):
            subprocess.run(["meson", "setup", build, CHECKOUT], check=True, env=env)
        subprocess.run(["ninja", "-C", build], check=True, env=env)
        return os.path.realpath(os.path.join(build, "lib", LIBRARY))
    bundled = os.path.join(PACKAGE, LIBRARY)
    if os.path.exists(bundled):
        return bundled
    raise RuntimeError(f"no libvexfs sources at {CHECKOUT} and no {LIBRARY} in {PACKAGE}: "
                       "build from a libvexfs checkout")


def _metadata(project: dict) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}",
             f"Version: {project['version']}", f"Summary: {project['description']}",
             f"License: {project['license']['text']}",
             f"Requires-Python: {project['requires-python']}"]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {r}; extra == "{extra}"' for r in requirements]
    with open(os.path.join(HERE, project["readme"]), encoding="utf-8") as f:
        readme = f.read()
    return "\n".join(lines + ["Description-Content-Type: text/markdown", "", readme])


def _dist_info(project: dict) -> str:
    return f"{project['name']}-{project['version']}.dist-info"


def _dist_info_files(project: dict) -> dict[str, bytes]:
    """The wheel's metadata files, RECORD aside."""
    return {"METADATA": _metadata(project).encode(),
            "WHEEL": (f"Wheel-Version: 1.0\nGenerator: vexfs_build\nRoot-Is-Purelib: false\n"
                      f"Tag: {_tag()}\n").encode(),
            "top_level.txt": b"vexfs\n"}


def _tag() -> str:
    """py3-none-<platform>: pure Python modules, but a native library for one platform."""
    return "py3-none-" + sysconfig.get_platform().replace("-", "_").replace(".", "_")


class _Wheel:
    """A wheel being written: files are added with their RECORD lines."""

    def __init__(self, directory: str, project: dict) -> None:
        self.name, self.version = project["name"], project["version"]
        self.filename = f"{self.name}-{self.version}-{_tag()}.whl"
        self.zip = zipfile.ZipFile(os.path.join(directory, self.filename), "w",
                                   zipfile.ZIP_DEFLATED)
        self.record: list[str] = []

    def add(self, arcname: str, data: bytes, executable: bool = False) -> None:
        info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (0o755 if executable else 0o644) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        self.record.append(f"{arcname},sha256={digest},{len(data)}")

    def finish(self, project: dict) -> str:
        info = _dist_info(project)
        for name, data in _dist_info_files(project).items():
            self.add(f"{info}/{name}", data)
        self.record.append(f"{info}/RECORD,,")
        self.zip.writestr(f"{info}/RECORD", "\n".join(self.record) + "\n")
        self.zip.close()
        return self.filename


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    project = _project()
    library = _built_library()
    wheel = _Wheel(wheel_directory, project)
    for folder, subfolders, names in os.walk(PACKAGE):  # vexfs/ and its subpackages
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        inside = os.path.relpath(folder, os.path.dirname(PACKAGE))
        for name in sorted(names):
            if name.endswith(".py") or name == "py.typed":
                wheel.add(f"{inside}/{name}", _read(os.path.join(folder, name)))
    wheel.add(f"vexfs/{LIBRARY}", _read(library), executable=True)
    return wheel.finish(project)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    """A wheel whose .pth puts this source folder on sys.path; the library is copied into
    vexfs/ here (where the package finds its bundled copy)."""
    project = _project()
    library = _built_library()
    if os.path.realpath(library) != os.path.realpath(os.path.join(PACKAGE, LIBRARY)):
        shutil.copyfile(library, os.path.join(PACKAGE, LIBRARY))
    wheel = _Wheel(wheel_directory, project)
    wheel.add("__editable__.vexfs.pth", (HERE + "\n").encode())
    return wheel.finish(project)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None) -> str:
    """The metadata alone, without building the library."""
    project = _project()
    info = _dist_info(project)
    os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
    for name, data in _dist_info_files(project).items():
        with open(os.path.join(metadata_directory, info, name), "wb") as f:
            f.write(data)
    return info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def get_requires_for_build_wheel(config_settings=None) -> list[str]:
    return []


def get_requires_for_build_editable(config_settings=None) -> list[str]:
    return []
