"""Real database and storage engines for the tests, started on loopback in a temporary
folder (PostgreSQL, SeaweedFS S3) — and the scale-out cluster made of them."""
