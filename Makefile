# The two commands of the README, and a few conveniences.
.PHONY: demo check build clean

build:
	@scripts/deps.sh build
	@[ -f build/build.ninja ] || meson setup build -Dwerror=true
	@ninja -C build

demo: build
	@scripts/demo.sh

check:
	@scripts/check.sh

clean:
	rm -rf build build-asan build.*.log build-asan.*.log
