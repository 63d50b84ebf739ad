# Thin driver over CMake: `make demo` and `make test` are the two commands a
# newcomer needs; everything else is CMake.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all build deps demo test unit clean install format check-builds package

all: build

deps:
	@bash tools/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	bash tools/demo.sh

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 1200 $(CTEST_ARGS)

# Every build type a packager uses must stay -Werror clean, with gcc and
# clang: CI builds Release with gcc and Debug with clang besides the default.
check-builds: deps
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD)/release -j $(JOBS)
	CC=clang cmake -S . -B $(BUILD)/clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(BUILD)/clang -j $(JOBS)

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

# Debian packages oak-node, oak-cluster, oak-root, oakctl (cmake/packaging.cmake)
# from a tree of their own with the Debian prefix: $(BUILD)/pkg/*.deb
package: deps
	cmake -S . -B $(BUILD)/pkg -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
	cmake --build $(BUILD)/pkg -j $(JOBS) --target oak-node oak-dp oak-cluster oak-root oakctl
	cd $(BUILD)/pkg && cpack -G DEB

install: build
	cmake --install $(BUILD)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
