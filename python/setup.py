"""Wheel tags for aotvit: the package is Python-only code (ctypes) around a native library, so the wheel is
``py3-none-<platform>``: any CPython 3, no Python ABI, one platform. The platform tag (e.g.
``manylinux_2_17_x86_64``) comes from $AOTVIT_WHEEL_PLATFORM, which tools/build_wheel.sh derives from the glibc
symbol versions libaotvit.so really imports. Metadata is in pyproject.toml."""
import os

from setuptools import setup
from wheel.bdist_wheel import bdist_wheel


class PlatformWheel(bdist_wheel):
    """bdist_wheel with the native platform tag and no Python ABI tag."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False  # the wheel carries a shared library: not installable on other platforms

    def get_tag(self):
        platform = os.environ.get("AOTVIT_WHEEL_PLATFORM")
        if not platform:
            raise SystemExit("AOTVIT_WHEEL_PLATFORM is not set: build the wheel with tools/build_wheel.sh")
        return "py3", "none", platform


setup(cmdclass={"bdist_wheel": PlatformWheel})
