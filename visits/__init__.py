"""visits package."""
