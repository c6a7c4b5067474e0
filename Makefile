# Thin wrapper over CMake and the scripts in scripts/.
#   make        build ecs/core.so for Lua 5.4 into build/
#   make test   install missing Debian packages (as root), build, run every test
#   make demo   build, start the bundled emulator, run examples/quickstart.lua
#   make bench  benchmarks against libcurl baselines (not part of make test)
LUA ?= 5.4
JOBS ?= 2

.PHONY: all build deps test quick demo bench fuzz clean

all: build

build:
	cmake -S . -B build -DECS_LUA=$(LUA) >/dev/null
	cmake --build build -j $(JOBS)

deps:
	bash scripts/deps.sh

test: deps
	bash scripts/test.sh

quick: deps
	QUICK=1 bash scripts/test.sh

demo: deps
	@mkdir -p build
	@echo "building the C core (log: build/demo-build.log)"
	@{ cmake -S . -B build -DECS_LUA=$(LUA) && cmake --build build -j $(JOBS); } >build/demo-build.log 2>&1 || \
	  { cat build/demo-build.log; exit 1; }
	@bash scripts/demo.sh

bench: deps build
	bash scripts/bench.sh

fuzz: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} bash scripts/fuzz.sh

clean:
	rm -rf build build-*
