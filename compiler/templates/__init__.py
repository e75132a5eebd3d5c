"""Package data: the `aisprint new-application` template (`new_application/`)."""
