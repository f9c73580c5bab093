"""Real storage engines started by the tests themselves (SeaweedFS S3; PostgreSQL)."""
