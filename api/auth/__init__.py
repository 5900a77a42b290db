"""Who is asking: RS256 user tokens checked against a per-tenant JWKS, and hashed, rate-limited API keys."""
