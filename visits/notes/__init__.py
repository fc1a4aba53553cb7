"""Visit notes: the draft built from a visit's transcript, its review, signature and addenda."""
