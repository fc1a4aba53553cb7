"""The core's HTTP face: the app factory, authentication, the API registry and core routes."""
