"""The scheduler's API routes; each module's `register(api)` lists its endpoints."""
