# arbor's everyday commands. Each recipe is one line; `just ci` runs what .ci/run runs.
# Get just with `cargo install just` (the README's two commands do not need it).

# Run the main demo: the scraper pipeline, simulated.
demo:
    cargo run --release -p scraper

# The jobber reference app's demo (examples/jobber).
jobber:
    cargo run -p jobber

# The scraper: the book's GenStage pipeline, simulated (`just scraper --help` for options).
scraper *args:
    cargo run --release -p scraper -- {{args}}

# The tickets app: the book's Broadway pipeline (`just tickets --amqp URL`, `--publish N`, `--help`).
tickets *args:
    cargo run --release -p tickets -- {{args}}

# The tests that need RabbitMQ (at ARBOR_AMQP_URL, default 127.0.0.1:5672 guest/guest).
test-broker:
    cargo test -p arbor-broadway --features rabbitmq-tests && cargo test -p tickets --features rabbitmq-tests

# The observer's page in headless Chromium (needs Debian's chromium and chromium-driver).
test-browser:
    cargo test -p arbor-observer --features browser-tests

# The Flow chapter's app on OurAirports' real data (`just airports --help` for options).
airports *args:
    cargo run --release -p airports -- {{args}}

# Every test: unit, integration and doc tests.
test:
    cargo test --workspace

# Formatting and clippy, as CI checks them.
lint:
    cargo fmt --all -- --check && cargo clippy --workspace --all-targets -- -D warnings

# Build the API docs (warnings are errors, as in CI).
doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# Package every published crate and build each from its .crate, as .ci/run does.
package:
    CARGO_PROFILE_DEV_DEBUG=0 cargo package --allow-dirty -p arbor-actor -p arbor-supervisor -p arbor-registry -p arbor-stage -p arbor-task -p arbor-broadway -p arbor-flow -p arbor-app -p arbor-observer -p arbor

# Every bench, scaling curves included (ARBOR_BENCH_QUICK=1: about 100 s, to check a change).
bench:
    cargo bench -p arbor-benches

# One table from the last bench run: arbor, its raw baseline, the ratio, and the BEAM.
bench-report:
    cargo run -q -p arbor-benches --bin bench-report

# Scaling curves (arbor and its raw baseline per point), then their plots in docs/scaling/ (ARBOR_BENCH_QUICK=1: ~1 min).
bench-scaling:
    cargo bench -p arbor-benches --bench scaling && cargo run -q --release -p arbor-benches --bin bench-plot

# The benches again with ractor's message span propagation on, to compare.
bench-spans:
    cargo bench -p arbor-benches --features span-propagation

# Exactly what CI runs.
ci:
    bash .ci/run
