# The README's two commands are `make test` and `make demo`; both run `make setup` first.
.PHONY: setup test demo lint bench clean

setup:
	@bash scripts/setup.sh

test: setup
	@bash scripts/run_tests.sh

demo: setup
	@bash scripts/demo.sh

lint: setup
	@bash -c 'source env.sh && ruff check a2j_ros'

bench: setup
	@bash -c 'source env.sh && a2j bench --all'

clean:
	rm -rf build install log demo_out
