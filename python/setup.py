"""Wheel tags for aotvit: the package is Python-only code (ctypes) around a native library, so the wheel is
``py3-none-<platform>``: any CPython 3, no Python ABI, one platform. The platform tag (e.g.
``manylinux_2_17_x86_64``) comes from $AOTVIT_WHEEL_PLATFORM, which tools/build_wheel.sh derives from the glibc
symbol versions libaotvit.so really imports. Metadata is in pyproject.toml."""
import os

from setuptools import Distribution, setup
from wheel.bdist_wheel import bdist_wheel


class BinaryDistribution(Distribution):
    """The package carries a shared library (aotvit/_lib): a platform wheel, installed into platlib."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    """bdist_wheel with the native platform tag and no Python ABI tag."""

    def get_tag(self):
        platform = os.environ.get("AOTVIT_WHEEL_PLATFORM")
        if not platform:
            raise SystemExit("AOTVIT_WHEEL_PLATFORM is not set: build the wheel with tools/build_wheel.sh")
        return "py3", "none", platform


setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": PlatformWheel})
