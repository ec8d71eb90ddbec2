"""Conan 2 recipe for libquant: builds the shared library from this checkout
and packages it with its headers and CMake package files.

    conan create conan/ -s compiler.cppstd=gnu20    # build, package, run test_package/

The dependencies (OpenBLAS, LAPACKE, ICU, sentencepiece, RE2, simdjson,
OpenSSL, libcurl, zlib) are the system's (scripts/install-deps.sh installs
them on Debian; the recipe checks for them through apt). Consumers find the
package with find_package(libquant) through the package's own
libquantConfig.cmake, which looks up those libraries again.
"""
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load
from conan.tools.system.package_manager import Apt

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


class LibquantConan(ConanFile):
    name = "libquant"
    description = "Compression of large language models: GGUF (llama.cpp-exact), imatrix, SmoothQuant, LittleBit"
    topics = ("llm", "quantization", "gguf")
    package_type = "shared-library"
    settings = "os", "arch", "compiler", "build_type"

    def set_version(self):
        cmake = load(self, os.path.join(self.recipe_folder, "..", "CMakeLists.txt"))
        self.version = re.search(r"project\(libquant VERSION ([0-9.]+)", cmake).group(1)

    def export_sources(self):
        # What a library-only build reads: the top-level CMake files, cmake/ and libquant/.
        root = os.path.join(self.recipe_folder, "..")
        copy(self, "CMakeLists.txt", root, self.export_sources_folder)
        copy(self, "cmake/*", root, self.export_sources_folder)
        copy(self, "libquant/*", root, self.export_sources_folder)

    def validate(self):
        check_min_cppstd(self, "20")

    def system_requirements(self):
        Apt(self).install(["libopenblas-dev", "liblapacke-dev", "libicu-dev", "libsentencepiece-dev", "libre2-dev",
                           "libsimdjson-dev", "libssl-dev", "libcurl4-openssl-dev", "zlib1g-dev"], check=True)

    def layout(self):
        cmake_layout(self)

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["LIBQUANT_BUILD_TESTS"] = "OFF"
        tc.cache_variables["LIBQUANT_BUILD_APPS"] = "OFF"
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        CMake(self).install()

    def package_info(self):
        # The package's own CMake config (libquantConfig.cmake) is what consumers use.
        self.cpp_info.set_property("cmake_find_mode", "none")
        self.cpp_info.builddirs = [os.path.join("lib", "cmake", "libquant")]
        self.cpp_info.libs = ["quant"]
