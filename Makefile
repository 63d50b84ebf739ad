# Thin driver over CMake: `make demo` and `make test` are the two commands a
# newcomer needs; everything else is CMake.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all build deps demo test unit clean install format

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

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

install: build
	cmake --install $(BUILD)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
